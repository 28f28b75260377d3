package dev.kubeos.api.agent;

import java.io.IOException;
import java.nio.file.FileSystemException;
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
   *     {@link FileSystemException} is named as well when it has one
   */
  public static AgentException of(String what, String where, IOException e) {
    if (isNoSpace(e)) {
      String file =
          e instanceof FileSystemException fse && fse.getFile() != null
              ? " (file " + fse.getFile() + ")"
              : "";
      return new AgentException(
          ErrorCode.NO_SPACE,
          what + ": no space left on " + where + file + "; free space there before trying again",
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
