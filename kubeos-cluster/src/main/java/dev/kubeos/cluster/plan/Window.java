package dev.kubeos.cluster.plan;

import dev.kubeos.crd.TimeWindow;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A parsed {@code spec.timewindow} in upstream's two formats: daily {@code HH:MM:SS} (an end before
 * the start crosses midnight) or once {@code YYYY-MM-DD HH:MM:SS} (the end must be after the start,
 * as upstream refuses it otherwise). The start is inclusive, the end exclusive.
 */
public final class Window {
  private static final Pattern DAILY = Pattern.compile("\\d{2}:\\d{2}:\\d{2}");
  private static final Pattern DATED = Pattern.compile("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}");
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss").withResolverStyle(ResolverStyle.STRICT);
  private static final DateTimeFormatter DATE_TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss").withResolverStyle(ResolverStyle.STRICT);

  private final LocalTime dailyStart;
  private final LocalTime dailyEnd;
  private final LocalDateTime onceStart;
  private final LocalDateTime onceEnd;

  private Window(LocalTime ds, LocalTime de, LocalDateTime os, LocalDateTime oe) {
    this.dailyStart = ds;
    this.dailyEnd = de;
    this.onceStart = os;
    this.onceEnd = oe;
  }

  /**
   * Parses a time window; empty when both ends are empty (no restriction).
   *
   * @throws IllegalArgumentException with a readable message when the window is malformed
   */
  public static Optional<Window> parse(TimeWindow tw) {
    String s = tw == null || tw.getStarttime() == null ? "" : tw.getStarttime().trim();
    String e = tw == null || tw.getEndtime() == null ? "" : tw.getEndtime().trim();
    if (s.isEmpty() && e.isEmpty()) {
      return Optional.empty();
    }
    if (s.isEmpty() || e.isEmpty()) {
      throw new IllegalArgumentException(
          "spec.timewindow needs both starttime and endtime (found starttime '"
              + s
              + "', endtime '"
              + e
              + "'): set both, or neither for no restriction");
    }
    try {
      if (DAILY.matcher(s).matches() && DAILY.matcher(e).matches()) {
        LocalTime ds = LocalTime.parse(s, TIME);
        LocalTime de = LocalTime.parse(e, TIME);
        if (ds.equals(de)) {
          throw new IllegalArgumentException(
              "spec.timewindow starttime equals endtime (" + s + "): the window would be empty");
        }
        return Optional.of(new Window(ds, de, null, null));
      }
      if (DATED.matcher(s).matches() && DATED.matcher(e).matches()) {
        LocalDateTime os = LocalDateTime.parse(s, DATE_TIME);
        LocalDateTime oe = LocalDateTime.parse(e, DATE_TIME);
        if (!oe.isAfter(os)) {
          throw new IllegalArgumentException(
              "spec.timewindow endtime '"
                  + e
                  + "' is not after starttime '"
                  + s
                  + "': a dated window must end after it starts (as upstream)");
        }
        return Optional.of(new Window(null, null, os, oe));
      }
    } catch (DateTimeParseException ex) {
      throw new IllegalArgumentException(
          "spec.timewindow has an impossible time ("
              + ex.getParsedString()
              + "): "
              + ex.getMessage());
    }
    throw new IllegalArgumentException(
        "spec.timewindow starttime '"
            + s
            + "' and endtime '"
            + e
            + "' must both be HH:MM:SS (daily) or both YYYY-MM-DD HH:MM:SS (once)");
  }

  /** Whether {@code now} lies inside the window, read in {@code zone}. */
  public boolean contains(Instant now, ZoneId zone) {
    if (dailyStart != null) {
      LocalTime t = LocalTime.ofInstant(now, zone);
      if (dailyEnd.isBefore(dailyStart)) {
        return !t.isBefore(dailyStart) || t.isBefore(dailyEnd);
      }
      return !t.isBefore(dailyStart) && t.isBefore(dailyEnd);
    }
    LocalDateTime t = LocalDateTime.ofInstant(now, zone);
    return !t.isBefore(onceStart) && t.isBefore(onceEnd);
  }

  /** The next instant after {@code now} at which the window opens; empty if it never will. */
  public Optional<Instant> nextOpening(Instant now, ZoneId zone) {
    if (dailyStart != null) {
      ZonedDateTime local = now.atZone(zone);
      ZonedDateTime today = ZonedDateTime.of(local.toLocalDate(), dailyStart, zone);
      return Optional.of(today.isAfter(local) ? today.toInstant() : today.plusDays(1).toInstant());
    }
    ZonedDateTime start = onceStart.atZone(zone);
    return start.toInstant().isAfter(now) ? Optional.of(start.toInstant()) : Optional.empty();
  }

  @Override
  public String toString() {
    return dailyStart != null
        ? "daily " + dailyStart + "-" + dailyEnd
        : onceStart.format(DATE_TIME) + " to " + onceEnd.format(DATE_TIME);
  }
}
