package dev.kubeos.agent.stage;

import dev.kubeos.agent.delta.ChunkIndexLoader;
import dev.kubeos.agent.delta.DeltaStager;
import dev.kubeos.agent.port.ImageOpener;
import dev.kubeos.agent.port.RawArtifact;
import dev.kubeos.agent.port.TarPayload;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.PayloadSource;
import java.io.IOException;
import java.util.Optional;

/**
 * A container image from a registry. Its manifest is fetched first (and its digest checked before
 * any blob is fetched or anything is written); it says which of two kinds the image is:
 *
 * <ul>
 *   <li>an upstream-style image: its {@code /os.tar} is laid into the slot like a rootfs tarball
 *       ({@link TarPayloadWriter});
 *   <li>a KubeOS OS artifact: with a chunk index, only the chunks the node lacks are fetched by
 *       range from the raw image blob ({@link DeltaPayloadWriter#assemble}); without one, the raw
 *       image streams into the slot ({@link RawPayloadWriter#stream}). Either way the slot is
 *       verified against the image digest the manifest names and recorded with the artifact's
 *       manifest digest.
 * </ul>
 *
 * @param images resolves image references; null when the agent was built without them
 * @param tar writes an image's {@code /os.tar}
 */
public record RegistryImageWriter(ImageOpener images, TarPayloadWriter tar)
    implements PayloadWriter<ResolvedPayload.RegistryImage> {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  @Override
  public StageResult write(ResolvedPayload.RegistryImage payload, TargetSlot slot)
      throws IOException {
    if (images == null) {
      throw new AgentException(
          ErrorCode.UNSUPPORTED, "this agent was built without container-image payloads");
    }
    ImageOpener.ResolvedImage resolved =
        images.resolve(payload.reference(), payload.expected(), payload.fetch());
    if (resolved.raw() != null) {
      return writeArtifact(resolved.raw(), payload.expected(), slot);
    }
    try (TarPayload osTar = resolved.osTar()) {
      return tar.layOut(osTar, slot);
    }
  }

  private static StageResult writeArtifact(
      RawArtifact artifact, Sha256 manifestDigest, TargetSlot slot) throws IOException {
    Optional<PayloadSource> indexSource = artifact.chunkIndex();
    // the index is read (and checked against the image digest) before the slot is opened
    ChunkIndex index =
        indexSource.isEmpty()
            ? null
            : ChunkIndexLoader.load(indexSource.get(), artifact.imageSha256());
    if (index == null || !DeltaPayloadWriter.fitsHeap(index, slot)) {
      StageResult r = RawPayloadWriter.stream(artifact.image(), artifact.imageSha256(), slot);
      LOG.log(
          System.Logger.Level.INFO,
          String.format(
              "stage %s: %s staged whole (image %s, %d bytes, %d downloaded)",
              slot.version(), artifact.describe(), r.actual(), r.bytes(), artifact.downloaded()));
      return new StageResult(
          r.bytes(),
          manifestDigest,
          r.readBackUncached(),
          r.elapsed(),
          r.resumes(),
          artifact.downloaded());
    }
    long indexBytes = artifact.downloaded();
    DeltaStager.Result r = DeltaPayloadWriter.assemble(index, artifact.ranges(), slot);
    long fetched = r.fetchedBytes() + indexBytes;
    DeltaPayloadWriter.log(slot, r, fetched, artifact.describe());
    return DeltaPayloadWriter.staged(r, manifestDigest, fetched);
  }
}
