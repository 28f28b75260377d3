package dev.kubeos.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.StageRequest.Format;
import org.junit.jupiter.api.Test;

class StageRequestTest {

  @Test
  void urlFormatsParseInAnyCase() {
    assertThat(Format.parse("raw")).isEqualTo(Format.RAW);
    assertThat(Format.parse(" TAR ")).isEqualTo(Format.TAR);
    assertThat(Format.parse("Delta")).isEqualTo(Format.DELTA);
  }

  @Test
  void imageIsNotAUrlFormat() {
    // an image comes with a reference (--image), never as a --format of a URL
    assertThatThrownBy(() -> Format.parse("image"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--image");
    assertThatThrownBy(() -> Format.parse("qcow2")).hasMessageContaining("raw, tar or delta");
  }
}
