package dev.kubeos.agent.port;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** Opens the node's disk (the one holding the GPT with ROOT-A/ROOT-B). */
public interface DiskOpener {

  BlockDevice open(boolean writable) throws IOException;

  /** Name for messages, e.g. {@code /dev/vda} or the image file. */
  String name();

  /** The path host tools (mkfs.ext4) can write to; empty for in-memory disks. */
  Optional<Path> path();
}
