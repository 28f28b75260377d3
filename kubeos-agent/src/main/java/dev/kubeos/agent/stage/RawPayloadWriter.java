package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.PayloadSource;
import java.io.IOException;

/** A raw image streamed into the slot by {@link RawImageWriter}. */
public final class RawPayloadWriter implements PayloadWriter<ResolvedPayload.RawImage> {

  @Override
  public StageResult write(ResolvedPayload.RawImage payload, TargetSlot slot) throws IOException {
    return stream(payload.source(), payload.expected(), slot);
  }

  /** Streams the raw image {@code source} into the slot; it must hash to {@code expected}. */
  static StageResult stream(PayloadSource source, Sha256 expected, TargetSlot slot)
      throws IOException {
    try (BlockDevice device = slot.openForWriting()) {
      return new RawImageWriter().write(source, expected, device, slot.progress());
    }
  }
}
