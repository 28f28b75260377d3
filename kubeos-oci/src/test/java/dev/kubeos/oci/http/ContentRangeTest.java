package dev.kubeos.oci.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ContentRangeTest {
  @Test
  void parsesBoundsAndTotal() {
    ContentRange r = ContentRange.parse(" bytes 10-19/100 ").orElseThrow();
    assertThat(r.first()).isEqualTo(10);
    assertThat(r.last()).isEqualTo(19);
    assertThat(r.end()).isEqualTo(20);
    assertThat(r.total()).isEqualTo(OptionalLong.of(100));
    assertThat(ContentRange.parse("bytes 0-0/*").orElseThrow().total()).isEmpty();
  }

  @Test
  void refusesMalformedReversedAndOverlongHeaders() {
    assertThat(ContentRange.parse(null)).isEmpty();
    assertThat(ContentRange.parse("bytes */100")).isEmpty();
    assertThat(ContentRange.parse("bytes 5-4/100")).isEmpty();
    assertThat(ContentRange.parse("items 0-1/2")).isEmpty();
    assertThat(ContentRange.parse("bytes 0-99999999999999999999/1")).isEmpty();
  }

  @Test
  void coversAndStartsAtCompareTheServedSpan() {
    assertThat(ContentRange.covers("bytes 10-19/100", 10, 19)).isTrue();
    assertThat(ContentRange.covers("bytes 10-20/100", 10, 19)).isFalse();
    assertThat(ContentRange.startsAt("bytes 10-99/100", 10)).isTrue();
    assertThat(ContentRange.startsAt("bytes 0-99/100", 10)).isFalse();
  }
}
