package dev.kubeos.cluster.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.crd.TimeWindow;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WindowTest {
  static final ZoneId UTC = ZoneOffset.UTC;

  static Window window(String s, String e) {
    return Window.parse(new TimeWindow(s, e)).orElseThrow();
  }

  @ParameterizedTest(name = "{0}-{1} at {2}: {3}")
  @CsvSource({
    "08:00:00, 17:00:00, 2026-03-02T07:59:59Z, false",
    "08:00:00, 17:00:00, 2026-03-02T08:00:00Z, true",
    "08:00:00, 17:00:00, 2026-03-02T16:59:59Z, true",
    "08:00:00, 17:00:00, 2026-03-02T17:00:00Z, false",
    "22:00:00, 04:00:00, 2026-03-02T23:30:00Z, true",
    "22:00:00, 04:00:00, 2026-03-03T03:59:59Z, true",
    "22:00:00, 04:00:00, 2026-03-03T04:00:00Z, false",
    "22:00:00, 04:00:00, 2026-03-02T12:00:00Z, false",
    "2026-03-02 22:00:00, 2026-03-03 02:00:00, 2026-03-03T01:00:00Z, true",
    "2026-03-02 22:00:00, 2026-03-03 02:00:00, 2026-03-04T01:00:00Z, false",
  })
  void containsFollowsBothUpstreamFormats(String s, String e, String now, boolean open) {
    assertThat(window(s, e).contains(Instant.parse(now), UTC)).isEqualTo(open);
  }

  @ParameterizedTest(name = "{0}-{1} at {2}: next {3}")
  @CsvSource({
    "22:00:00, 04:00:00, 2026-03-02T12:00:00Z, 2026-03-02T22:00:00Z",
    "22:00:00, 04:00:00, 2026-03-02T23:00:00Z, 2026-03-03T22:00:00Z",
    "2026-03-05 01:00:00, 2026-03-05 02:00:00, 2026-03-02T12:00:00Z, 2026-03-05T01:00:00Z",
  })
  void nextOpening(String s, String e, String now, String next) {
    assertThat(window(s, e).nextOpening(Instant.parse(now), UTC)).contains(Instant.parse(next));
  }

  @org.junit.jupiter.api.Test
  void aPassedOneOffWindowNeverOpensAgainAndZonesShiftIt() {
    Window w = window("2026-03-01 01:00:00", "2026-03-01 02:00:00");
    assertThat(w.nextOpening(Instant.parse("2026-03-02T00:00:00Z"), UTC)).isEmpty();
    Window daily = window("08:00:00", "09:00:00");
    ZoneId berlin = ZoneId.of("Europe/Berlin");
    assertThat(daily.contains(Instant.parse("2026-03-02T07:30:00Z"), berlin)).isTrue();
    assertThat(daily.contains(Instant.parse("2026-03-02T08:30:00Z"), berlin)).isFalse();
  }

  @ParameterizedTest(name = "''{0}''-''{1}'' is rejected: {2}")
  @CsvSource({
    "08:00:00, '', needs both",
    "08:00:00, 2026-03-02 09:00:00, must both be",
    "25:00:00, 09:00:00, impossible time",
    "2026-02-30 01:00:00, 2026-03-01 01:00:00, impossible time",
    "08:00:00, 08:00:00, would be empty",
    "2026-03-02 22:00:00, 2026-03-02 02:00:00, is not after starttime",
    "2026-03-02 22:00:00, 2026-03-02 22:00:00, is not after starttime",
    "2026-03-02 22:00:00, 2026-03-01 23:00:00, is not after starttime",
    "8:00, 9:00, must both be",
  })
  void malformedWindowsAreRejectedReadably(String s, String e, String message) {
    assertThatThrownBy(() -> Window.parse(new TimeWindow(s, e)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @org.junit.jupiter.api.Test
  void emptyWindowMeansNoRestriction() {
    assertThat(Window.parse(new TimeWindow("", ""))).isEmpty();
    assertThat(Window.parse(null)).isEmpty();
  }
}
