package dev.kubeos.agent.trust;

import dev.kubeos.agent.StageRequest;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.signing.Signatures;
import dev.kubeos.formats.trust.SignedPayload;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The trust gate of a real node: reads the trust directory on every stage (so a fixed policy takes
 * effect without a restart) and checks the signatures the {@link SignatureSource} finds.
 *
 * <ul>
 *   <li>No policy, or a policy without keys: nothing is fetched or checked.
 *   <li>{@code require_signatures}: the payload needs one valid signature by a trusted key over its
 *       digest (and version, when the signature names one); otherwise SIGNATURE_REJECTED, naming
 *       the keys tried, the digest and why each published signature was not accepted.
 *   <li>Keys but not required (audit mode): signatures are fetched and checked, the outcome is
 *       logged as a warning, and the payload is staged either way.
 * </ul>
 *
 * @param trustDir the trust directory (policy.json and the trusted keys)
 * @param source where the payload's signatures are
 */
public record PolicyTrustGate(Path trustDir, SignatureSource source) implements TrustGate {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  @Override
  public String check(StageRequest request) {
    TrustStore.Loaded trust = TrustStore.load(trustDir);
    if (!trust.policy().checksSignatures()) {
      return "signatures not checked (no trust policy in " + trustDir + ")";
    }
    boolean required = trust.policy().requireSignatures();
    Sha256 digest = Sha256.parse(request.sha256());
    String where = source.describe(request);
    List<SignedPayload> published;
    try {
      published = source.fetch(request);
    } catch (IOException | AgentException e) {
      AgentException failure =
          e instanceof AgentException ae
              ? ae
              : new AgentException(
                  ErrorCode.DOWNLOAD_FAILED,
                  "cannot fetch the signature " + where + ": " + e.getMessage(),
                  e);
      if (required) {
        throw new AgentException(
            failure.code(),
            "refusing to stage "
                + request.version()
                + " ("
                + digest
                + "): the trust policy requires a signature and fetching it failed: "
                + failure.getMessage(),
            failure);
      }
      return warn("signature of " + digest + " not checked (audit mode): " + failure.getMessage());
    }
    Signatures.Verdict verdict =
        Signatures.verify(published, trust.keys(), digest, request.version());
    if (verdict.accepted().isPresent()) {
      Signatures.Accepted a = verdict.accepted().get();
      return "signature of "
          + digest
          + " by trusted key "
          + a.key().describe()
          + " verified ("
          + a.origin()
          + ")";
    }
    String refusal = refusal(request, digest, trust, where, published, verdict);
    if (required) {
      throw new AgentException(ErrorCode.SIGNATURE_REJECTED, refusal);
    }
    return warn("audit mode, staging anyway: " + refusal);
  }

  private static String refusal(
      StageRequest request,
      Sha256 digest,
      TrustStore.Loaded trust,
      String where,
      List<SignedPayload> published,
      Signatures.Verdict verdict) {
    StringBuilder b = new StringBuilder();
    b.append("payload ")
        .append(request.version())
        .append(" (")
        .append(digest)
        .append(") has no valid signature by a trusted key. Keys tried: ")
        .append(trust.describeKeys())
        .append(". ");
    if (published.isEmpty()) {
      b.append("No signature is published at ").append(where).append('.');
    } else {
      b.append("Signatures found at ").append(where).append(": ");
      b.append(String.join("; ", verdict.findings())).append('.');
    }
    if (request.image() != null) {
      b.append(" Sign the image with 'kubeos image sign --key KEY --image REPO@")
          .append(digest)
          .append("' (pushes the signature to the registry)");
    } else {
      b.append(" Sign the payload with 'kubeos image sign --key KEY PAYLOAD' (publish PAYLOAD.sig")
          .append(" next to it)");
    }
    b.append(" using a key the node trusts, or fix the trust policy in ")
        .append(trust.dir())
        .append(" (docs/signatures.md)");
    return b.toString();
  }

  private static String warn(String message) {
    LOG.log(System.Logger.Level.WARNING, message);
    return message;
  }
}
