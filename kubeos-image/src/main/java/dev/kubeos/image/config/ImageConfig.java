package dev.kubeos.image.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The image builder's input, a TOML file (see docs/image-builder.md). Keys are snake_case; unknown
 * keys are errors, so a typo never silently drops a setting. Absent sections are {@code null}; the
 * {@link dev.kubeos.image.plan.Planner} applies the defaults and checks the values.
 *
 * @param version the OS version the image holds (os-release, agent state, payload names)
 * @param profile {@code node} (default: a Kubernetes node, see docs/image-builder.md) or {@code
 *     minimal} (kernel, systemd and the agent only)
 * @param distribution where the root file system comes from
 * @param users root password and extra accounts
 * @param files files copied into the image
 * @param systemd units to enable
 * @param partitions partition sizes
 * @param kernel extra kernel command line
 * @param agent the agent runtime to install
 * @param output optional outputs
 * @param trust the node's trust policy for payload signatures
 * @param kubernetes a user-supplied kubelet (and kubeadm) for the node profile
 * @param health checks added to the default /etc/KubeOS/health.json
 */
public record ImageConfig(
    String version,
    String profile,
    Distribution distribution,
    Users users,
    List<FileEntry> files,
    Systemd systemd,
    Partitions partitions,
    Kernel kernel,
    Agent agent,
    Output output,
    Trust trust,
    Kubernetes kubernetes,
    Health health) {

  /**
   * @param source {@code debootstrap} (default) or {@code directory}
   * @param suite Debian suite (default bookworm)
   * @param mirror Debian mirror URL (default http://deb.debian.org/debian)
   * @param variant debootstrap variant (default minbase)
   * @param packages packages installed on top (default: the profile's set, see Planner)
   * @param extraPackages packages installed in addition to {@code packages}
   * @param path directory source: a rootfs directory or a rootfs tarball (relative to the config)
   */
  public record Distribution(
      String source,
      String suite,
      String mirror,
      String variant,
      List<String> packages,
      List<String> extraPackages,
      String path) {}

  /**
   * @param rootPasswordHash crypt(3) hash for root (e.g. from {@code openssl passwd -6}); absent:
   *     root keeps the distribution's entry (locked on Debian)
   * @param accounts extra accounts
   */
  public record Users(String rootPasswordHash, List<Account> accounts) {}

  /** An extra account: {@code name}, {@code uid} (also its group id), hash, shell, groups. */
  public record Account(
      String name, Integer uid, String passwordHash, String shell, List<String> groups) {}

  /**
   * @param source file on the build host (relative to the config file)
   * @param target absolute path in the image
   * @param mode octal mode (default 0644)
   */
  public record FileEntry(String source, String target, String mode) {}

  /**
   * @param enable units enabled in addition to the agent's own
   */
  public record Systemd(List<String> enable) {}

  /** Sizes in MiB; defaults 64 / 2048 / 1024 (node) or 64 / 1024 / 512 (minimal). */
  public record Partitions(Integer espMib, Integer rootMib, Integer persistMib) {}

  /**
   * @param cmdline appended to the boot contract's command line (e.g. console=ttyS0,115200)
   */
  public record Kernel(String cmdline) {}

  /**
   * @param runtime directory made by scripts/build-agent-runtime.sh (bin/java + kubeos.jar),
   *     relative to the config file
   */
  public record Agent(String runtime) {}

  /**
   * @param qcow2 also write disk.qcow2 (needs qemu-img)
   */
  public record Output(Boolean qcow2) {}

  /**
   * @param keys PEM public keys (ECDSA P-256) the node trusts, relative to the config file; each
   *     lands in /etc/KubeOS/trust under its file name
   * @param requireSignatures refuse payloads without a valid signature by one of the keys
   */
  public record Trust(List<String> keys, Boolean requireSignatures) {}

  /**
   * The kubelet for a node image. Debian does not package it: the binaries come from the user (e.g.
   * the upstream release's {@code kubelet} and {@code kubeadm}).
   *
   * @param version the Kubernetes version of the binaries (e.g. v1.30.4), recorded in the image
   * @param kubelet the kubelet binary on the build host (relative to the config file)
   * @param kubeadm optional kubeadm binary (relative to the config file)
   * @param kubectl optional kubectl binary (relative to the config file)
   * @param crictl optional crictl binary (kubeadm before v1.31 requires it; Debian 12 has none)
   */
  public record Kubernetes(
      String version, String kubelet, String kubeadm, String kubectl, String crictl) {}

  /**
   * @param deadlineSeconds overall deadline of the post-boot checks (default 300)
   * @param checks checks added to the profile's default ones
   */
  public record Health(Integer deadlineSeconds, List<HealthCheck> checks) {}

  /**
   * One post-boot check, written to /etc/KubeOS/health.json in the agent's format.
   *
   * @param type {@code http}, {@code command} or {@code systemd-unit}
   * @param url for http: the URL that must answer 2xx
   * @param argv for command: the command that must exit 0
   * @param unit for systemd-unit: the unit that must be active
   * @param deadlineSeconds this check's own deadline (default: the overall one)
   * @param onlyIfExists the check applies only while this path exists (else it is no gate)
   */
  public record HealthCheck(
      String type,
      String url,
      List<String> argv,
      String unit,
      Integer deadlineSeconds,
      String onlyIfExists) {}

  private static final TomlMapper MAPPER = mapper();

  private static TomlMapper mapper() {
    TomlMapper m = new TomlMapper();
    m.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    return m;
  }

  /** Parses TOML text ({@code origin} names it in messages). */
  public static ImageConfig parse(String toml, String origin) {
    try {
      ImageConfig c = MAPPER.readValue(toml, ImageConfig.class);
      if (c == null) {
        throw new AgentException(ErrorCode.INVALID_REQUEST, origin + " is empty");
      }
      return c;
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "image config "
              + origin
              + " is not valid: "
              + e.getMessage().lines().findFirst().orElse("")
              + "; see docs/image-builder.md for the keys",
          e);
    }
  }

  /** Reads and parses a TOML file. */
  public static ImageConfig load(Path file) {
    try {
      return parse(Files.readString(file), file.toString());
    } catch (NoSuchFileException e) {
      throw new AgentException(ErrorCode.INVALID_REQUEST, "image config " + file + " not found");
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR, "cannot read image config " + file + ": " + e.getMessage(), e);
    }
  }
}
