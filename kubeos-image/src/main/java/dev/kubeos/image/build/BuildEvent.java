package dev.kubeos.image.build;

import java.time.Duration;

/**
 * Progress of a build.
 *
 * @param step the plan's step name
 * @param kind what happened
 * @param detail a short human-readable detail (may be empty)
 * @param elapsed time spent in the step so far (zero for STARTED)
 */
public record BuildEvent(String step, Kind kind, String detail, Duration elapsed) {
  public enum Kind {
    /** The step begins. */
    STARTED,
    /** The step's result came from the cache: its work was skipped. */
    CACHED,
    /** Something worth telling (a warning, a size). */
    NOTE,
    /** The step finished. */
    DONE
  }
}
