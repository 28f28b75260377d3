package dev.kubeos.agent.port;

import java.io.IOException;
import java.io.InputStream;

/**
 * Random access to a remote or local blob by byte ranges (HTTP Range requests, a file, a registry
 * blob). Used by delta staging to fetch only the chunks a node does not have.
 */
public interface RangeSource {

  /** Human-readable location for messages (never contains credentials). */
  String describe();

  /**
   * Total size of the blob in bytes. Also checks that ranges are supported.
   *
   * @throws dev.kubeos.api.agent.AgentException DOWNLOAD_FAILED when the blob cannot be reached or
   *     does not support ranges
   */
  long size() throws IOException;

  /**
   * Opens exactly {@code length} bytes starting at {@code offset}. The stream may end early or fail
   * when a connection breaks; the caller re-opens the rest.
   */
  InputStream read(long offset, long length) throws IOException;
}
