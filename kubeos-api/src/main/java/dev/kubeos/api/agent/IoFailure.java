package dev.kubeos.api.agent;

import java.io.IOException;
import java.util.Locale;

/**
 * Classifies a node-side I/O failure: a full file system (ENOSPC, "No space left on device", or
 * EDQUOT, "Disk quota exceeded") is {@link ErrorCode#NO_SPACE} and names where it happened, since
 * retrying cannot help; anything else is {@link ErrorCode#IO_ERROR} (retryable).
 */
public final class IoFailure {
  private IoFailure() {}

  /**
   * The typed error for {@code e}.
   *
   * @param what what was being done ("stage 1.2 failed", "writing the slot")
   * @param where the disk, device or directory written, named in a NO_SPACE message; the file of a
   *     {@link java.nio.file.FileSystemException} is named as well, through its message
   */
  public static AgentException of(String what, String where, IOException e) {
    if (isNoSpace(e)) {
      return new AgentException(
          ErrorCode.NO_SPACE,
          what
              + ": no space left on "
              + where
              + " ("
              + e.getMessage()
              + "); free space there before trying again",
          e);
    }
    return new AgentException(ErrorCode.IO_ERROR, what + ": " + e.getMessage(), e);
  }

  /** Whether {@code t} or one of its causes reports a full file system (ENOSPC or EDQUOT). */
  public static boolean isNoSpace(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      String m = c.getMessage() == null ? "" : c.getMessage().toLowerCase(Locale.ROOT);
      if (m.contains("no space left on device") || m.contains("disk quota exceeded")) {
        return true;
      }
    }
    return false;
  }
}
