package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.DiskOpener;
import dev.kubeos.agent.port.TarPayload;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A rootfs tarball, or a container image's {@code /os.tar}, laid into the slot with {@code
 * mkfs.ext4 -d} by {@link TarRootfsWriter} once it is verified.
 *
 * @param disk the node's disk: mkfs.ext4 writes to its path
 * @param commands host tools (mkfs.ext4)
 * @param workDir the agent's scratch space on PERSIST for the extraction (see {@link
 *     PrivateWorkDir}: 0700, extraction root mounted nosuid,nodev,noexec)
 */
public record TarPayloadWriter(DiskOpener disk, CommandRunner commands, Path workDir)
    implements PayloadWriter<ResolvedPayload.RootfsTar> {

  @Override
  public StageResult write(ResolvedPayload.RootfsTar payload, TargetSlot slot) throws IOException {
    try (TarPayload tar = TarRootfsWriter.digested(payload.source(), payload.expected())) {
      return layOut(tar, slot);
    }
  }

  /**
   * Lays a tar payload into the slot. The work dir is the agent's own scratch space: what a killed
   * earlier stage left there goes first.
   */
  StageResult layOut(TarPayload tar, TargetSlot slot) throws IOException {
    Path diskPath =
        disk.path()
            .orElseThrow(
                () ->
                    new AgentException(
                        ErrorCode.UNSUPPORTED,
                        "tar and container-image payloads need a disk path for mkfs.ext4"));
    CommandRunner guarded = slot.guard(commands);
    PrivateWorkDir.clear(workDir, commands);
    TarRootfsWriter.Target target =
        new TarRootfsWriter.Target(
            diskPath, slot.offset(), slot.size(), slot.slot().partitionName(), workDir);
    return new TarRootfsWriter(guarded, commands, Duration.ofMinutes(30), 5)
        .write(tar, target, slot.progress());
  }
}
