package dev.kubeos.agent.trust;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.signing.Keys;
import dev.kubeos.formats.signing.TrustedKey;
import dev.kubeos.formats.trust.TrustPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the node's trust directory ({@code /etc/KubeOS/trust}): {@value TrustPolicy#FILE} and the
 * public keys it names. No directory or no policy file means no policy; a policy that cannot be
 * read, or names a key that is missing or unusable, is an error (never "no policy"), so a damaged
 * policy fails closed.
 */
public final class TrustStore {
  private TrustStore() {}

  /**
   * The loaded policy.
   *
   * @param dir where it was read
   * @param policy the policy
   * @param keys the trusted keys, in the policy's order
   */
  public record Loaded(Path dir, TrustPolicy policy, List<TrustedKey> keys) {
    public Loaded {
      keys = List.copyOf(keys);
    }

    /** {@code release.pub (sha256:...), other.pub (sha256:...)} or {@code none}. */
    public String describeKeys() {
      return keys.isEmpty()
          ? "none"
          : String.join(", ", keys.stream().map(TrustedKey::describe).toList());
    }
  }

  public static Loaded load(Path dir) {
    Path file = dir.resolve(TrustPolicy.FILE);
    if (!Files.exists(file)) {
      return new Loaded(dir, TrustPolicy.NONE, List.of());
    }
    TrustPolicy policy;
    try {
      policy = TrustPolicy.parse(Files.readString(file), file.toString());
    } catch (IOException | IllegalArgumentException e) {
      throw broken(file, e.getMessage());
    }
    List<TrustedKey> keys = new ArrayList<>();
    for (String name : policy.keys()) {
      try {
        keys.add(Keys.readPublic(dir.resolve(name)));
      } catch (AgentException e) {
        throw broken(file, e.getMessage());
      }
    }
    return new Loaded(dir, policy, keys);
  }

  private static AgentException broken(Path file, String why) {
    return new AgentException(
        ErrorCode.PRECONDITION_FAILED,
        "the node's trust policy "
            + file
            + " is broken: "
            + why
            + ". Nothing is staged until it is fixed (see docs/signatures.md)");
  }
}
