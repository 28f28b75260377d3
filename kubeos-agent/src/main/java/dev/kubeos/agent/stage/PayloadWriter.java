package dev.kubeos.agent.stage;

import java.io.IOException;

/**
 * Writes one kind of {@link ResolvedPayload} into its target slot and verifies it there. A writer
 * records nothing: the caller ({@link SlotStager}) owns the slot's records.
 *
 * @param <P> the kind of payload
 */
public sealed interface PayloadWriter<P extends ResolvedPayload>
    permits RawPayloadWriter, TarPayloadWriter, DeltaPayloadWriter, RegistryImageWriter {

  /**
   * Writes {@code payload} into {@code slot} and checks what landed there against its digest.
   *
   * @return what was staged; {@link StageResult#actual()} is the digest recorded for the slot
   */
  StageResult write(P payload, TargetSlot slot) throws IOException;
}
