package dev.kubeos.image.build;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The node agent's own first {@code init} of a freshly partitioned disk: it reads the GPT just
 * written, writes the boot env blocks into the ESP tree and the state record (slot A holds {@code
 * version}, verified) into the PERSIST tree, exactly as the agent reads them later. The builder
 * does not know these formats; kubeos-cli wires the agent's implementation in.
 */
@FunctionalInterface
public interface DiskInitializer {
  /**
   * Initialises the agent's files for {@code disk} with slot A booted, leaving no lock file.
   *
   * @param disk the disk image (GPT written, ROOT-A filled)
   * @param espDir the ESP's tree (becomes the ESP file system)
   * @param stateDir the agent's state directory in the PERSIST tree
   * @param version the version slot A holds
   * @param slotASha256 ROOT-A's SHA-256 (hex)
   */
  void init(Path disk, Path espDir, Path stateDir, String version, String slotASha256)
      throws IOException;
}
