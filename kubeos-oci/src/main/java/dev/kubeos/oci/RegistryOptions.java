package dev.kubeos.oci;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Node-wide settings of registry access.
 *
 * @param hostsDir containerd's registry host configuration ({@code <dir>/<host>/hosts.toml})
 * @param dockerConfig docker's {@code config.json} with registry credentials
 * @param maxResumes how often a broken blob download is resumed by Range before giving up
 * @param backoff wait before the first resume; the n-th waits n times as long
 */
public record RegistryOptions(Path hostsDir, Path dockerConfig, int maxResumes, Duration backoff) {
  public static final Path DEFAULT_HOSTS_DIR = Path.of("/etc/containerd/certs.d");
  public static final Path DEFAULT_DOCKER_CONFIG = Path.of("/root/.docker/config.json");

  public RegistryOptions {
    hostsDir = hostsDir == null ? DEFAULT_HOSTS_DIR : hostsDir;
    dockerConfig = dockerConfig == null ? DEFAULT_DOCKER_CONFIG : dockerConfig;
    backoff = backoff == null ? Duration.ofMillis(250) : backoff;
  }

  /** The node's containerd and docker files, 5 resumes 250 ms apart (growing). */
  public static RegistryOptions defaults() {
    return new RegistryOptions(null, null, 5, null);
  }

  public RegistryOptions withHostsDir(Path dir) {
    return new RegistryOptions(dir, dockerConfig, maxResumes, backoff);
  }

  public RegistryOptions withDockerConfig(Path file) {
    return new RegistryOptions(hostsDir, file, maxResumes, backoff);
  }

  public RegistryOptions withRetries(int resumes, Duration wait) {
    return new RegistryOptions(hostsDir, dockerConfig, resumes, wait);
  }
}
