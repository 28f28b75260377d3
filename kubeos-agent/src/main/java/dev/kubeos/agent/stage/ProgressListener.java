package dev.kubeos.agent.stage;

/** Progress of a staging operation; called at most a few times per second. */
@FunctionalInterface
public interface ProgressListener {
  ProgressListener NONE = (done, total) -> {};

  /**
   * @param bytesDone payload bytes processed so far
   * @param totalOrMinus1 payload length, or -1 when the source did not announce it
   */
  void progress(long bytesDone, long totalOrMinus1);
}
