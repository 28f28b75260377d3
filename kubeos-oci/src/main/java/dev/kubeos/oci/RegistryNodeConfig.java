package dev.kubeos.oci;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.model.DockerConfig;
import dev.kubeos.oci.model.HostsConfig;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.model.RegistryEndpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The node's registry configuration for one image: the endpoints from containerd's {@code
 * hosts.toml} (the registry's own directory, else {@code _default}; mirrors first) and the
 * credentials from the docker config. Both files are optional.
 */
record RegistryNodeConfig(List<RegistryEndpoint> endpoints, DockerConfig docker) {

  /**
   * @param insecure --insecure-registry: plain http to the registry itself
   */
  static RegistryNodeConfig read(ImageReference ref, RegistryOptions options, boolean insecure) {
    List<RegistryEndpoint> endpoints = HostsConfig.defaults(ref, insecure);
    for (String dirName : List.of(ref.registry(), "_default")) {
      Path dir = options.hostsDir().resolve(dirName);
      Path file = dir.resolve("hosts.toml");
      if (Files.isRegularFile(file)) {
        endpoints = HostsConfig.parse(read(file), dir, ref, insecure);
        break;
      }
    }
    DockerConfig docker =
        Files.isRegularFile(options.dockerConfig())
            ? DockerConfig.parse(read(options.dockerConfig()), options.dockerConfig().toString())
            : DockerConfig.empty();
    return new RegistryNodeConfig(endpoints, docker);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new AgentException(ErrorCode.IO_ERROR, "cannot read " + file + ": " + e.getMessage());
    }
  }
}
