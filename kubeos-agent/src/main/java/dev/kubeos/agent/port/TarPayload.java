package dev.kubeos.agent.port;

import dev.kubeos.formats.digest.Sha256;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;

/**
 * A rootfs tar stream together with the check that must pass before the slot is written: the tar
 * writer extracts {@link #open()} into its work dir, then calls {@link #verify()}, and formats the
 * slot only when that returned.
 */
public interface TarPayload extends Closeable {

  /** Where the tar comes from, for messages (never contains credentials). */
  String describe();

  /** The tar bytes (plain or gzip). Called once. */
  InputStream open() throws IOException;

  /** Length of the tar stream when known after {@link #open()}, else -1. */
  long length();

  /**
   * Reads whatever the extraction left unread and checks every digest.
   *
   * @return the digest to record for the slot
   * @throws dev.kubeos.api.agent.AgentException CHECKSUM_MISMATCH (or another code) when the
   *     payload is not verified
   */
  Sha256 verify() throws IOException;

  /** Bytes received from the network or cache so far. */
  long bytes();

  /** Resumed downloads so far. */
  int resumes();
}
