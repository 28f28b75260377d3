package dev.kubeos.oci.source;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;

/**
 * A cached blob did not match its digest when read back (the cache is not fsynced, so a crash can
 * leave a damaged file). The file is already removed: the stage that hit it is run once more and
 * fetches the blob from its source.
 */
public final class DamagedCacheException extends AgentException {
  public DamagedCacheException(String message) {
    super(ErrorCode.IO_ERROR, message);
  }
}
