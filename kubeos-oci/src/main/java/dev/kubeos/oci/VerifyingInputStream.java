package dev.kubeos.oci;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.http.BlockReadingInputStream;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.source.DamagedCacheException;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Hashes a blob while it is read and reports its end only when size and SHA-256 match the
 * descriptor: a reader never sees end-of-stream for content that is not verified. More bytes than
 * the descriptor's size are refused as soon as they arrive.
 */
public class VerifyingInputStream extends BlockReadingInputStream {
  private final Descriptor expected;
  private final String what;
  private final ErrorCode onMismatch;
  private final MessageDigest md;
  private long count;
  private boolean verified;

  /**
   * @param what the blob and where it came from, for messages
   * @param onMismatch the code of a mismatch (CHECKSUM_MISMATCH from a registry, IO_ERROR for a
   *     damaged cache file)
   */
  public VerifyingInputStream(
      InputStream in, Descriptor expected, String what, ErrorCode onMismatch) {
    super(in);
    this.expected = expected;
    this.what = what;
    this.onMismatch = onMismatch;
    try {
      this.md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Bytes read so far. */
  long count() {
    return count;
  }

  public boolean verified() {
    return verified;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = in.read(b, off, len);
    if (n > 0) {
      md.update(b, off, n);
      count += n;
      if (count > expected.size()) {
        throw mismatch("more than the " + expected.size() + " bytes of its descriptor arrived");
      }
      return n;
    }
    if (n < 0 && !verified) {
      if (count != expected.size()) {
        throw mismatch("it ended after " + count + " of " + expected.size() + " bytes");
      }
      Sha256 actual = Sha256.of(md.digest());
      if (!actual.equals(expected.digest())) {
        throw mismatch("its " + count + " bytes hash to " + actual);
      }
      verified = true;
    }
    return n;
  }

  private AgentException mismatch(String why) {
    String message = what + " is not " + expected.digest() + ": " + why;
    if (onMismatch == ErrorCode.CHECKSUM_MISMATCH) {
      return new AgentException(
          onMismatch,
          message + "; the registry's copy is damaged or was replaced, the slot was not touched");
    }
    return new DamagedCacheException(message + "; the damaged cache file was removed");
  }
}
