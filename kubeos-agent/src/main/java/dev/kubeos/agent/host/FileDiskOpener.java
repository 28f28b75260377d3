package dev.kubeos.agent.host;

import dev.kubeos.agent.disk.FileBlockDevice;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.DiskOpener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** The node's disk as a block device or disk image file. */
public final class FileDiskOpener implements DiskOpener {
  private final Path path;

  public FileDiskOpener(Path path) {
    this.path = path;
  }

  @Override
  public BlockDevice open(boolean writable) throws IOException {
    return FileBlockDevice.open(path, writable);
  }

  @Override
  public String name() {
    return path.toString();
  }

  @Override
  public Optional<Path> path() {
    return Optional.of(path);
  }
}
