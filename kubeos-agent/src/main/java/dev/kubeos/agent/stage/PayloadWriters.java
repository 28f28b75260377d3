package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.DiskOpener;
import dev.kubeos.agent.port.ImageOpener;
import java.io.IOException;
import java.nio.file.Path;

/** The writer family: one {@link PayloadWriter} per kind of {@link ResolvedPayload}. */
public final class PayloadWriters {
  private final RawPayloadWriter raw = new RawPayloadWriter();
  private final TarPayloadWriter tar;
  private final DeltaPayloadWriter delta = new DeltaPayloadWriter();
  private final RegistryImageWriter registry;

  /**
   * @param disk the node's disk (tar payloads need its path for mkfs.ext4)
   * @param commands host tools (mkfs.ext4)
   * @param workDir scratch space on PERSIST for tar extraction
   * @param images resolves container images; null = not supported
   */
  public PayloadWriters(DiskOpener disk, CommandRunner commands, Path workDir, ImageOpener images) {
    this.tar = new TarPayloadWriter(disk, commands, workDir);
    this.registry = new RegistryImageWriter(images, tar);
  }

  /** Writes {@code payload} into the slot with the writer of its kind. */
  StageResult write(ResolvedPayload payload, TargetSlot slot) throws IOException {
    if (payload instanceof ResolvedPayload.RawImage p) {
      return raw.write(p, slot);
    }
    if (payload instanceof ResolvedPayload.RootfsTar p) {
      return tar.write(p, slot);
    }
    if (payload instanceof ResolvedPayload.ChunkIndexed p) {
      return delta.write(p, slot);
    }
    if (payload instanceof ResolvedPayload.RegistryImage p) {
      return registry.write(p, slot);
    }
    throw new IllegalArgumentException("no writer for " + payload); // ResolvedPayload is sealed
  }
}
