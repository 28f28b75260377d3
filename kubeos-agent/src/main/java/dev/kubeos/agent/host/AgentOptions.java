package dev.kubeos.agent.host;

import dev.kubeos.api.agent.Slot;
import dev.kubeos.oci.BlobCache;
import dev.kubeos.oci.RegistryOptions;
import java.nio.file.Path;

/**
 * How to find the node's parts (the agent CLI's global options). Nulls mean: detect on the host.
 *
 * @param disk block device or disk image holding the GPT; null = disk of the running root
 * @param bootDir mounted ESP
 * @param stateDir agent state on PERSIST
 * @param bootedSlot override of the booted slot; null = from the kernel command line
 * @param healthConfig health check file; a missing file means no checks
 * @param certDir where upstream's cacert/clientcert/clientkey file names are resolved
 * @param trustDir the trust policy for payload signatures (docs/signatures.md); no policy file
 *     there means signatures are not checked; null = {@link #DEFAULT_TRUST_DIR}
 * @param registryHostsDir containerd's registry host configuration (hosts.toml per registry); null
 *     = {@link RegistryOptions#DEFAULT_HOSTS_DIR}
 * @param dockerConfig docker's config.json with registry credentials; null = {@link
 *     RegistryOptions#DEFAULT_DOCKER_CONFIG}
 * @param blobCacheBytes size bound of the layer cache under {@code <stateDir>/blobs}; 0 = {@link
 *     BlobCache#DEFAULT_MAX_BYTES}
 */
public record AgentOptions(
    Path disk,
    Path bootDir,
    Path stateDir,
    Slot bootedSlot,
    Path healthConfig,
    Path certDir,
    Path trustDir,
    Path registryHostsDir,
    Path dockerConfig,
    long blobCacheBytes) {

  /** These options with another registry configuration (hosts.toml dir, docker config). */
  public AgentOptions withRegistry(Path hostsDir, Path docker, long cacheBytes) {
    return new AgentOptions(
        disk,
        bootDir,
        stateDir,
        bootedSlot,
        healthConfig,
        certDir,
        trustDir,
        hostsDir,
        docker,
        cacheBytes);
  }

  /** The registry settings these options name. */
  public RegistryOptions registry() {
    return RegistryOptions.defaults().withHostsDir(registryHostsDir).withDockerConfig(dockerConfig);
  }

  /** The layer cache on PERSIST. */
  public BlobCache blobCache() {
    return new BlobCache(
        stateDir.resolve("blobs"),
        blobCacheBytes > 0 ? blobCacheBytes : BlobCache.DEFAULT_MAX_BYTES);
  }

  public static final Path DEFAULT_BOOT_DIR = Path.of("/boot/efi");
  public static final Path DEFAULT_STATE_DIR = Path.of("/persist/kubeos");
  public static final Path DEFAULT_HEALTH_CONFIG = Path.of("/etc/KubeOS/health.json");
  public static final Path DEFAULT_CERT_DIR = Path.of("/etc/KubeOS/certs");
  public static final Path DEFAULT_TRUST_DIR = Path.of("/etc/KubeOS/trust");

  public AgentOptions {
    trustDir = trustDir == null ? DEFAULT_TRUST_DIR : trustDir;
  }

  /** Options with the default trust directory and registry configuration. */
  public AgentOptions(
      Path disk, Path bootDir, Path stateDir, Slot bootedSlot, Path healthConfig, Path certDir) {
    this(disk, bootDir, stateDir, bootedSlot, healthConfig, certDir, null, null, null, 0);
  }
}
