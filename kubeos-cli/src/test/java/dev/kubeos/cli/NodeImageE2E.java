package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubeos.agent.host.FreshDiskInit;
import dev.kubeos.api.Json;
import dev.kubeos.cli.demo.DemoImages;
import dev.kubeos.cli.demo.GuestJobs;
import dev.kubeos.cli.demo.Host;
import dev.kubeos.cli.demo.QemuDemo;
import dev.kubeos.cli.demo.QemuGuest;
import dev.kubeos.image.Images;
import dev.kubeos.image.build.BuildResult;
import dev.kubeos.image.build.Trees;
import dev.kubeos.image.plan.BuildPlan;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node image (profile {@code node}, issue 11) proven on a real disk under QEMU (OVMF + GRUB,
 * TCG, no network), driven like {@link QemuBootE2E} by the probe unit and job disks ({@link
 * QemuGuest}, {@link GuestJobs}). One sequence of three boots:
 *
 * <ol>
 *   <li>v1 from ROOT-A: AppArmor profiles loaded; a container image the host made (an OCI archive
 *       of Debian's static busybox) is imported and run by containerd confined by an AppArmor
 *       profile; {@code configure} sets a live sysctl, a persisted sysctl and a containerd setting
 *       (containerd restarted, {@code containerd config dump}); a file in /etc that every version
 *       ships is edited by hand; v2 is staged and its trial armed (the agent merges /etc).
 *   <li>v2's trial from ROOT-B, committed by the health gate (boot to healthy measured): the
 *       persisted sysctl is back, the live one is not; the image is still in containerd's store and
 *       the container starts with nothing to import and no network to pull from; /etc holds v2's
 *       files, the node's changes and, for the file both changed, the node's with a reported
 *       conflict; a v3 that GRUB cannot boot (a root file system without a kernel) is staged and
 *       its trial armed.
 *   <li>GRUB consumes v3's trial on ROOT-A, cannot load it and falls back to v2 on ROOT-B by
 *       itself: the agent shows the failed trial and refuses a rollback onto it; a file written on
 *       PERSIST under v1 is still there; the container still starts; the agent's service, not
 *       started at boot, is started by a {@code status} call through its socket, answers, and exits
 *       by itself when idle.
 * </ol>
 *
 * A release whose health check fails falls back through the agent (not GRUB) in {@code
 * ClusterE2E}'s scenario 3, which also checks the reason reaching the cluster.
 *
 * <p>Every boot after the first is bounded by a multiple of what the first took on this machine
 * (the first by {@code kubeos.e2e.boot-timeout}, as QemuBootE2E's); nothing asserts on a time.
 * Needs root, qemu-system-x86, ovmf and busybox-static ({@code scripts/install-deps.sh
 * --with-qemu}).
 */
class NodeImageE2E {
  static final String IMAGE = "docker.io/kubeos/e2e-busybox:1";
  static final Path BUSYBOX = Path.of("/bin/busybox");
  static final String LOG_LINE_SIZE = "max_container_log_line_size";

  /** Kept when the test fails: the console logs (named in the failure) are in {@code logs}. */
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  Path runtime = QemuBootE2E.REPO.resolve("kubeos-cli/target/agent-runtime");
  QemuGuest vm;
  Duration bound = QemuBootE2E.BOOT;
  final Map<String, String> figures = new LinkedHashMap<>();

  @BeforeEach
  void hostCanRunIt() throws Exception {
    String why = QemuDemo.preflight();
    if (why == null
        && !(Files.isRegularFile(BUSYBOX)
            && Host.run(List.of("file", "-L", BUSYBOX.toString())).contains("statically linked"))) {
      why =
          "no static busybox at /bin/busybox for the container image: apt-get install busybox-static";
    }
    if (why != null) {
      if ("required".equals(System.getenv("KUBEOS_E2E"))) {
        fail("KUBEOS_E2E=required but this host cannot run the QEMU e2e: " + why);
      }
      assumeTrue(false, "skipped (set KUBEOS_E2E=required to make this a failure): " + why);
    }
  }

  @Test
  void nodeRunsConfinedContainersKeepsThemAcrossAnUpgradeAppliesSettingsAndFallsBackWhenUnhealthy()
      throws Exception {
    long t0 = System.nanoTime();
    DemoImages.ensureAgentRuntime(QemuBootE2E.REPO, runtime, System.out);
    BuildResult v1 = build("1.0.0");
    BuildResult v2 = build("2.0.0");
    Path broken = brokenImage();
    Oci oci = busyboxOciArchive(dir.resolve("oci"));
    vm = new QemuGuest(v1.disk(), dir.resolve("qemu"), dir.resolve("logs"));

    // Boot 1: v1 on ROOT-A. Guest speed, AppArmor, the container, the settings; stage v2.
    QemuGuest.Boot b1 =
        boot(
            v2.rootfsImage(),
            Map.of("busybox-oci.tar", oci.archive()),
            "echo \"PROBE-JVM-MS $(t0=$(date +%s%N); /usr/lib/kubeos/runtime/bin/java"
                + " -XX:TieredStopAtLevel=1 -version >/dev/null 2>&1;"
                + " echo $(( ($(date +%s%N) - t0) / 1000000 )))\"",
            HEALTHY_AT,
            // the gate's CDS archive survived the image build (-Xshare:on ends a JVM that
            // cannot use it): kubeos-health.service runs that way from /usr/lib/kubeos/runtime
            "echo \"PROBE-GATE-CDS $(cd /usr/lib/kubeos/runtime && bin/java -Xshare:on"
                + " -XX:SharedArchiveFile=kubeos.jsa -XX:TieredStopAtLevel=1 -jar kubeos.jar"
                + " --version >/dev/null 2>&1 && echo usable || echo unusable)\"",
            "echo \"written under v1 at $(date -u +%FT%TZ)\" > /persist/kubeos-demo-marker",
            "echo \"PROBE-AA-LOADED $(aa-status --profiled) $(aa-status --enforced)\"",
            "ctr image import /run/job/busybox-oci.tar && echo 'PROBE-IMPORTED ok'",
            STORE,
            RUN_CTR,
            "run_ctr 1",
            "echo \"PROBE-AA-PROFILE $(grep '^kubeos-e2e ' /sys/kernel/security/apparmor/profiles)\"",
            "cat > /run/kubeos-e2e-settings.json <<'EOF'\n" + settingsRequest() + "\nEOF",
            "kubeos agent configure --file /run/kubeos-e2e-settings.json"
                + " && echo 'PROBE-CONFIGURED ok'",
            SYSCTLS,
            "echo \"PROBE-CONTAINERD-FILE $(grep '"
                + LOG_LINE_SIZE
                + "'"
                + " /etc/containerd/config.toml)\"",
            "systemctl restart containerd"
                + " && echo \"PROBE-CONTAINERD-RESTARTED $(systemctl is-active containerd)\"",
            "echo \"PROBE-CONTAINERD-DUMP $(containerd config dump | grep '"
                + LOG_LINE_SIZE
                + "')\"",
            ETC_FILES,
            "echo node-edit > /etc/kubeos-e2e/both.conf",
            GuestJobs.stage(v2.rootfsImageSha256(), "2.0.0")
                + " && kubeos agent activate && echo 'PROBE-ACTIVATED ok'",
            "systemctl reboot; exit 0");
    String c = b1.console();
    assertThat(QemuGuest.probe(c, "BOOT")).startsWith("release=1.0.0").contains("kubeos.slot=A");
    assertThat(QemuGuest.probe(c, "HEALTH")).isEqualTo("active active");
    assertThat(QemuGuest.probe(c, "GATE-CDS"))
        .as("kubeos.jsa in the node's runtime")
        .isEqualTo("usable");
    long jvmMs = Long.parseLong(QemuGuest.probe(c, "JVM-MS"));
    // every later boot: a multiple of what this one (first boot, a 1.3 GiB stage) took here
    bound = b1.wall().multipliedBy(3);
    figures.put("guest JVM start (java -version, C1)", jvmMs + " ms");
    figures.put("boot 1 wall (first boot + container + settings + stage v2)", secs(b1.wall()));
    figures.put("boot 1: kernel start to health gate passed", healthyAt(c));
    // AppArmor: profiles loaded and enforced at boot; the container runs under an enforced one
    String[] aa = QemuGuest.probe(c, "AA-LOADED").split(" ");
    assertThat(Integer.parseInt(aa[0])).as("AppArmor profiles loaded").isPositive();
    assertThat(Integer.parseInt(aa[1])).as("AppArmor profiles in enforce mode").isPositive();
    assertThat(c).contains("PROBE-IMPORTED ok");
    assertThat(QemuGuest.probe(c, "IMAGES")).contains(IMAGE);
    Ctr first = ctr(c, 1);
    assertThat(first.rc()).as("ctr run, boot 1: %s", first.attr()).isZero();
    assertThat(first.attr()).isEqualTo("kubeos-e2e (enforce)");
    assertThat(QemuGuest.probe(c, "AA-PROFILE")).isEqualTo("kubeos-e2e (enforce)");
    figures.put("container start, boot 1 (after import)", first.ms() + " ms");
    List<String> content = words(QemuGuest.probe(c, "CONTENT"));
    assertThat(content).as("the blobs the host made").containsAll(oci.digests());
    // settings: live sysctl in /proc/sys now; containerd's real file edited and in effect
    assertThat(c).contains("PROBE-CONFIGURED ok");
    // kernel.sysctl is live now; kernel.sysctl.persist only writes its file (the kernel's 10 stays)
    assertThat(QemuGuest.probe(c, "SYSCTL")).isEqualTo("swappiness=17 dirty_background_ratio=10");
    assertThat(QemuGuest.probe(c, "CONTAINERD-FILE")).matches(LOG_LINE_SIZE + "\\s*=\\s*12345");
    assertThat(QemuGuest.probe(c, "CONTAINERD-RESTARTED")).isEqualTo("active");
    assertThat(QemuGuest.probe(c, "CONTAINERD-DUMP")).matches(LOG_LINE_SIZE + " = 12345");
    assertThat(QemuGuest.probe(c, "ETC")).isEqualTo("image=release=1.0.0 both=release=1.0.0");
    assertThat(c).contains("PROBE-STAGED ok", "PROBE-ACTIVATED ok");

    // Boot 2: v2's trial on ROOT-B, committed by the health gate; stage a v3 GRUB cannot boot.
    QemuGuest.Boot b2 =
        boot(
            broken,
            Map.of(),
            HEALTHY_AT,
            SYSCTLS,
            ETC_FILES,
            "echo \"PROBE-CONTAINERD-FILE $(grep '"
                + LOG_LINE_SIZE
                + "'"
                + " /etc/containerd/config.toml)\"",
            STORE,
            RUN_CTR,
            "run_ctr 2",
            GuestJobs.stage(Trees.sha256(broken), "3.0.0-broken")
                + " && kubeos agent activate && echo 'PROBE-ACTIVATED ok'",
            "systemctl reboot; exit 0");
    c = b2.console();
    assertThat(QemuGuest.probe(c, "BOOT")).startsWith("release=2.0.0").contains("kubeos.slot=B");
    JsonNode s = GuestJobs.status(c);
    assertThat(s.path("bootedSlot").asText()).isEqualTo("B");
    assertThat(s.path("defaultSlot").asText())
        .as("v2 committed by its health check")
        .isEqualTo("B");
    assertThat(s.path("slots").path("B").path("version").asText()).isEqualTo("2.0.0");
    figures.put("boot 2 (v2 trial): kernel start to health gate passed", healthyAt(c));
    figures.put("boot 2: QEMU start to health gate passed (host, console)", hostHealthy(b2));
    // the persisted sysctl came back at boot (systemd-sysctl), the live one did not
    assertThat(QemuGuest.probe(c, "SYSCTL")).isEqualTo("swappiness=60 dirty_background_ratio=7");
    assertThat(QemuGuest.probe(c, "CONTAINERD-FILE")).matches(LOG_LINE_SIZE + "\\s*=\\s*12345");
    // /etc across the upgrade (the agent's 3-way merge at activate): a file only v2 changed shows
    // v2's; the node's own changes stay its own; one both changed is the node's and reported
    assertThat(QemuGuest.probe(c, "ETC")).isEqualTo("image=release=2.0.0 both=node-edit");
    JsonNode merge = s.path("etcMerge");
    assertThat(merge.path("toVersion").asText()).isEqualTo("2.0.0");
    assertThat(merge.path("kept").toString())
        .contains("/etc/containerd/config.toml", "/etc/sysctl.d/90-kubeos-e2e.conf");
    assertThat(merge.path("conflicts").toString())
        .contains("/etc/kubeos-e2e/both.conf: changed on the node and in the new version");
    assertThat(merge.path("fromNewVersion").asInt()).isPositive();
    assertThat(c).contains("/etc merge conflict: /etc/kubeos-e2e/both.conf");
    // layer reuse: the same image and blobs in the store, unpacked; nothing to import on this
    // boot's disk, no network to pull from (-nic none)
    assertThat(QemuGuest.probe(c, "IMAGES")).contains(IMAGE);
    // the image's own blobs (the index the import wrote is unreferenced: containerd's GC drops it)
    assertThat(words(QemuGuest.probe(c, "CONTENT"))).containsAll(oci.digests());
    assertThat(Integer.parseInt(QemuGuest.probe(c, "SNAPSHOTS"))).isPositive();
    Ctr second = ctr(c, 2);
    assertThat(second.rc()).as("ctr run, boot 2: %s", second.attr()).isZero();
    assertThat(second.attr()).isEqualTo("kubeos-e2e (enforce)");
    figures.put("container start, boot 2 (after the upgrade, no import)", second.ms() + " ms");
    assertThat(c).contains("PROBE-STAGED ok", "PROBE-ACTIVATED ok");

    // Boot 3: GRUB consumes v3's trial on ROOT-A, cannot load it and falls back to v2 on ROOT-B
    // by itself, in the same power-on; a rollback onto the failed slot is refused.
    QemuGuest.Boot b3 =
        boot(
            null,
            Map.of(),
            SOCKET_ACTIVATION,
            SYSCTLS,
            STORE,
            RUN_CTR,
            "run_ctr 3",
            "kubeos agent rollback; echo \"PROBE-ROLLBACK-RC $?\"");
    c = b3.console();
    // socket activation (issue 14): no agent ran since boot (the probe's commands run their own
    // JVM); a status call through the socket starts it and is answered; idle, it exits again
    assertThat(QemuGuest.probe(c, "AGENT-IDLE")).isEqualTo("inactive");
    assertThat(QemuGuest.probe(c, "AGENT-ANSWER"))
        .contains("\"jsonrpc\":\"2.0\"", "\"result\"", "\"bootedSlot\":\"B\"");
    assertThat(QemuGuest.probe(c, "AGENT-ACTIVE")).isEqualTo("active");
    assertThat(QemuGuest.probe(c, "AGENT-AFTER-IDLE")).isEqualTo("inactive 0");
    figures.put(
        "boot 3: status through the socket, connect to answer (agent started by it)",
        QemuGuest.probe(c, "AGENT-ANSWER-MS") + " ms");
    figures.put(
        "boot 3: agent's idle exit after that answer (--idle-exit=60s, 1 s polls)",
        QemuGuest.probe(c, "AGENT-IDLE-S") + " s");
    assertThat(QemuGuest.probe(c, "BOOT")).startsWith("release=2.0.0").contains("kubeos.slot=B");
    s = GuestJobs.status(c);
    assertThat(s.path("bootedSlot").asText()).isEqualTo("B");
    assertThat(s.path("defaultSlot").asText()).isEqualTo("B");
    assertThat(s.path("slots").path("A").path("version").asText()).isEqualTo("3.0.0-broken");
    assertThat(s.path("slots").path("A").path("state").asText()).isEqualTo("FAILED_TRIAL");
    assertThat(s.path("lastFailure").asText()).contains("slot A", "did not commit");
    assertThat(QemuGuest.probe(c, "ROLLBACK-RC"))
        .as("rollback onto a failed trial")
        .isNotEqualTo("0");
    assertThat(QemuGuest.probe(c, "MARKER")).startsWith("written under v1");
    assertThat(QemuGuest.probe(c, "SYSCTL")).isEqualTo("swappiness=60 dirty_background_ratio=7");
    Ctr third = ctr(c, 3);
    assertThat(third.rc()).as("ctr run, boot 3: %s", third.attr()).isZero();
    assertThat(third.attr()).isEqualTo("kubeos-e2e (enforce)");
    figures.put("container start, boot 3 (after the fallback)", third.ms() + " ms");

    figures.put("NodeImageE2E total", secs(Duration.ofNanos(System.nanoTime() - t0)));
    System.out.println("NodeImageE2E figures (load " + Host.run(List.of("uptime")).strip() + "):");
    figures.forEach((k, v) -> System.out.printf(Locale.ROOT, "  %-66s %s%n", k, v));
  }

  /** The shell function that runs the container and reports rc, start-to-exit time, its label. */
  static final String RUN_CTR =
      "run_ctr() { t0=$(date +%s%N); out=$(ctr run --rm --apparmor-default-profile kubeos-e2e "
          + IMAGE
          + " e2e-$1 /bin/busybox cat /proc/self/attr/current 2>&1); rc=$?;"
          + " echo \"PROBE-CTR-$1 rc=$rc ms=$(( ($(date +%s%N) - t0) / 1000000 )) attr=$(echo $out)\"; }";

  /** containerd's store: image names, content digests, committed snapshots. */
  static final String STORE =
      "echo \"PROBE-IMAGES $(ctr image ls -q | tr '\\n' ' ')\"; "
          + "echo \"PROBE-CONTENT $(ctr content ls -q | tr '\\n' ' ')\"; "
          + "echo \"PROBE-SNAPSHOTS $(ctr snapshot ls | grep -c Committed)\"";

  /** Two files every version ships with its own release; the node edits {@code both.conf}. */
  static final String ETC_FILES =
      "echo \"PROBE-ETC image=$(cat /etc/kubeos-e2e/image.conf)"
          + " both=$(cat /etc/kubeos-e2e/both.conf)\"";

  /**
   * The agent's service before and after one {@code status} call through the socket, then once its
   * idle exit (60 s) has passed: polled, bounded at 10 minutes; the exit status is 0.
   */
  static final String SOCKET_ACTIVATION =
      "echo \"PROBE-AGENT-IDLE $(systemctl is-active kubeos-agent.service)\"; "
          + "t0=$(date +%s%N); "
          + "echo \"PROBE-AGENT-ANSWER $(printf '%s' "
          + "'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":[]}'"
          + " | socat -t 600 - UNIX-CONNECT:/run/os-agent/os-agent.sock | tr -d '\\n')\"; "
          + "echo \"PROBE-AGENT-ANSWER-MS $(( ($(date +%s%N) - t0) / 1000000 ))\"; "
          + "echo \"PROBE-AGENT-ACTIVE $(systemctl is-active kubeos-agent.service)\"; "
          + "i=0; while systemctl -q is-active kubeos-agent.service && [ $i -lt 600 ]; do"
          + " sleep 1; i=$((i+1)); done; echo \"PROBE-AGENT-IDLE-S $i\"; "
          + "echo \"PROBE-AGENT-AFTER-IDLE $(systemctl is-active kubeos-agent.service)"
          + " $(systemctl show -P ExecMainStatus kubeos-agent.service)\"";

  static final String SYSCTLS =
      "echo \"PROBE-SYSCTL swappiness=$(cat /proc/sys/vm/swappiness)"
          + " dirty_background_ratio=$(cat /proc/sys/vm/dirty_background_ratio)\"";

  /** When the health unit's check ended, in µs of CLOCK_MONOTONIC (0 = the kernel's start). */
  static final String HEALTHY_AT =
      "echo \"PROBE-HEALTHY-AT $(systemctl show -P ExecMainExitTimestampMonotonic"
          + " kubeos-health.service) $(systemctl show -P Result kubeos-health.service)\"";

  /** The settings request: a live sysctl, a persisted one, a containerd key. */
  static String settingsRequest() {
    ObjectNode r = Json.mapper().createObjectNode().put("version", "e2e-1");
    ArrayNode configs = r.putArray("configs");
    ObjectNode live = configs.addObject().put("model", "kernel.sysctl");
    live.putArray("contents").addObject().put("key", "vm.swappiness").put("value", 17);
    ObjectNode persist =
        configs
            .addObject()
            .put("model", "kernel.sysctl.persist")
            .put("configpath", "/etc/sysctl.d/90-kubeos-e2e.conf");
    persist
        .putArray("contents")
        .addObject()
        .put("key", "vm.dirty_background_ratio")
        .put("value", 7);
    ObjectNode containerd = configs.addObject().put("model", "container.containerd");
    containerd
        .putArray("contents")
        .addObject()
        .put("key", "plugins.\"io.containerd.grpc.v1.cri\"." + LOG_LINE_SIZE)
        .put("value", 12345);
    return r.toString();
  }

  record Ctr(int rc, long ms, String attr) {}

  static Ctr ctr(String console, int n) {
    String line = QemuGuest.probe(console, "CTR-" + n);
    Matcher m = Pattern.compile("rc=(\\d+) ms=(\\d+) attr=(.*)").matcher(line == null ? "" : line);
    assertThat(m.matches()).as("PROBE-CTR-%d line: %s", n, line).isTrue();
    return new Ctr(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)), m.group(3).strip());
  }

  static List<String> words(String s) {
    return s == null || s.isBlank() ? List.of() : List.of(s.strip().split("\\s+"));
  }

  /** The health gate's end from PROBE-HEALTHY-AT (the unit must have succeeded). */
  static String healthyAt(String console) {
    String[] v = QemuGuest.probe(console, "HEALTHY-AT").split(" ");
    assertThat(v[1]).as("kubeos-health.service result").isEqualTo("success");
    return secs(Duration.ofNanos(Long.parseLong(v[0]) * 1000));
  }

  /** Host side: the kernel's first console line to the probe's (After= the health unit). */
  static String hostHealthy(QemuGuest.Boot b) {
    Duration kernel = b.firstAt("Linux version");
    Duration probe = b.firstAt("PROBE-BOOT ");
    return secs(probe)
        + (kernel == null ? "" : " (kernel's first line to it: " + secs(probe.minus(kernel)) + ")");
  }

  QemuGuest.Boot boot(Path payload, Map<String, Path> files, String... lines) throws Exception {
    Path job = GuestJobs.disk(dir.resolve("jobs"), payload, List.of(lines), files);
    QemuGuest.Boot b = vm.boot(job, bound, (at, line) -> {});
    Files.delete(job);
    System.out.printf("[qemu] boot %d: %s, console %s%n", b.number(), b.wall(), b.log());
    b.requireNoJvmCrash();
    return b;
  }

  /**
   * A node-profile image (the default profile) with the probe. Slots of 1280 MiB (the node rootfs
   * uses ~1 GiB): the payload staged in the guest is smaller than the default 2 GiB.
   */
  BuildResult build(String version) throws IOException {
    Path d = Files.createDirectories(dir.resolve("v" + version));
    for (String f : List.of("kubeos-probe", "kubeos-probe.service")) {
      try (InputStream in = DemoImages.class.getResourceAsStream(f)) {
        Files.write(d.resolve(f), in.readAllBytes());
      }
    }
    StringBuilder toml =
        new StringBuilder("version = \"" + version + "\"\n")
            .append("[[files]]\nsource = \"kubeos-probe\"\n")
            .append("target = \"/usr/local/sbin/kubeos-probe\"\nmode = \"0755\"\n")
            .append("[[files]]\nsource = \"kubeos-probe.service\"\n")
            .append("target = \"/etc/systemd/system/kubeos-probe.service\"\n");
    Files.writeString(d.resolve("release.conf"), "release=" + version + "\n");
    for (String f : List.of("image.conf", "both.conf")) {
      toml.append("[[files]]\nsource = \"release.conf\"\n")
          .append("target = \"/etc/kubeos-e2e/" + f + "\"\n");
    }
    toml.append("[systemd]\nenable = [\"kubeos-probe.service\"]\n")
        .append("[partitions]\nroot_mib = 1280\n")
        .append("[kernel]\ncmdline = \"console=ttyS0,115200\"\n")
        .append("[agent]\nruntime = \"" + runtime.toAbsolutePath() + "\"\n");
    Path config = d.resolve("kubeos.toml");
    Files.writeString(config, toml);
    BuildPlan plan = Images.plan(config, d.resolve("out"), QemuBootE2E.CACHE);
    long t0 = System.nanoTime();
    BuildResult r = Images.build(plan, e -> {}, new FreshDiskInit(Clock.systemUTC())::init);
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    System.out.printf(
        "[build] %s: %s (rootfs %s)%n",
        version, secs(took), r.rootfsFromCache() ? "from the cache" : "built");
    figures.put(
        "build " + version + (r.rootfsFromCache() ? " (warm cache)" : " (cold)"), secs(took));
    return r;
  }

  /** A root file system without a kernel: GRUB cannot boot it. */
  Path brokenImage() throws IOException, InterruptedException {
    Path tree = Files.createDirectories(dir.resolve("broken/tree/etc"));
    Files.writeString(tree.resolve("os-release"), "PRETTY_NAME=\"KubeOS 3.0.0-broken\"\n");
    Path img = dir.resolve("broken/rootfs.img");
    Host.run(
        List.of("mkfs.ext4", "-q", "-F", "-d", tree.getParent().toString(), img.toString(), "16M"));
    return img;
  }

  /**
   * An OCI image archive (the layout {@code ctr image import} reads, as {@code ctr image export}
   * writes it) of one uncompressed layer: the host's static busybox as {@code /bin/busybox}.
   */
  /** An OCI archive and the digests of its layer, config and manifest. */
  record Oci(Path archive, List<String> digests) {}

  static Oci busyboxOciArchive(Path work) throws IOException, InterruptedException {
    Path root = Files.createDirectories(work.resolve("layer/bin"));
    Files.copy(BUSYBOX, root.resolve("busybox"));
    Files.setPosixFilePermissions(
        root.resolve("busybox"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(root.resolve("sh"), Path.of("busybox"));
    Path blobs = Files.createDirectories(work.resolve("archive/blobs/sha256"));
    Path layer = work.resolve("layer.tar");
    Host.run(
        List.of(
            "tar",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--sort=name",
            "--mtime=@0",
            "-C",
            work.resolve("layer").toString(),
            "-cf",
            layer.toString(),
            "bin"));
    ObjectNode layerDesc = blob(blobs, layer, "application/vnd.oci.image.layer.v1.tar");
    ObjectNode config = Json.mapper().createObjectNode().put("architecture", "amd64");
    config.put("os", "linux");
    config.putObject("config").putArray("Cmd").add("/bin/sh");
    ObjectNode rootfs = config.putObject("rootfs").put("type", "layers");
    rootfs.putArray("diff_ids").add(layerDesc.get("digest").asText());
    ObjectNode configDesc =
        blob(blobs, json(work, "config.json", config), "application/vnd.oci.image.config.v1+json");
    ObjectNode manifest = Json.mapper().createObjectNode().put("schemaVersion", 2);
    manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
    manifest.set("config", configDesc);
    manifest.putArray("layers").add(layerDesc);
    ObjectNode manifestDesc =
        blob(
            blobs,
            json(work, "manifest.json", manifest),
            "application/vnd.oci.image.manifest.v1+json");
    manifestDesc.putObject("platform").put("architecture", "amd64").put("os", "linux");
    manifestDesc
        .putObject("annotations")
        .put("io.containerd.image.name", IMAGE)
        .put("org.opencontainers.image.ref.name", IMAGE);
    ObjectNode index = Json.mapper().createObjectNode().put("schemaVersion", 2);
    index.put("mediaType", "application/vnd.oci.image.index.v1+json");
    index.putArray("manifests").add(manifestDesc);
    Path archive = work.resolve("archive");
    Files.writeString(archive.resolve("index.json"), index.toString());
    Files.writeString(archive.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    Path tar = work.resolve("busybox-oci.tar");
    Host.run(
        List.of(
            "tar",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--sort=name",
            "-C",
            archive.toString(),
            "-cf",
            tar.toString(),
            "oci-layout",
            "index.json",
            "blobs"));
    return new Oci(
        tar,
        List.of(
            layerDesc.get("digest").asText(),
            configDesc.get("digest").asText(),
            manifestDesc.get("digest").asText()));
  }

  private static Path json(Path work, String name, JsonNode node) throws IOException {
    return Files.writeString(work.resolve(name), node.toString());
  }

  /** Puts {@code file} in the layout's blobs; returns its descriptor. */
  private static ObjectNode blob(Path blobs, Path file, String mediaType) throws IOException {
    String sha = Trees.sha256(file);
    Files.copy(file, blobs.resolve(sha));
    ObjectNode d = Json.mapper().createObjectNode().put("mediaType", mediaType);
    return d.put("digest", "sha256:" + sha).put("size", Files.size(file));
  }

  static String secs(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }
}
