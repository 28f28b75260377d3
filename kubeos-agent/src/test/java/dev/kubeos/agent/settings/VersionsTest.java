package dev.kubeos.agent.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** Versions are data: upstream's forms pass, control characters and absurd lengths do not. */
class VersionsTest {
  @Test
  void upstreamsVersionFormsAreAccepted() {
    for (String v :
        new String[] {
          "KubeOS 2.0.0",
          "v1",
          "1.0.0",
          "openEuler 22.03 LTS SP2",
          "KubeOS/2.0",
          "..",
          "Кубе 1",
          "x".repeat(Versions.MAX_LENGTH),
          "sha-0123456789ab",
          "a:b"
        }) {
      assertThatCode(() -> Versions.require(v)).as(v).doesNotThrowAnyException();
    }
  }

  @Test
  void controlFormatAndOverlongVersionsAreRefused() {
    for (String v :
        new String[] {
          "",
          "  ",
          "KubeOS\u00002.0",
          "v1\n",
          "v\r1",
          "\u001b[31mred",
          "v\u202e1",
          "v\u2028",
          "v\ud800",
          "x".repeat(Versions.MAX_LENGTH + 1)
        }) {
      assertThatThrownBy(() -> Versions.require(v))
          .as(v)
          .isInstanceOf(AgentException.class)
          .hasMessageStartingWith("invalid version ")
          .extracting(e -> ((AgentException) e).code())
          .isEqualTo(ErrorCode.INVALID_REQUEST);
    }
    assertThatThrownBy(() -> Versions.require(null)).hasMessageContaining("it is empty");
    assertThatThrownBy(() -> Versions.require("a\u0000b"))
        .hasMessage(
            "invalid version 'a\\u0000b': it has the control or format character U+0000 at index 1"
                + " (a version is printable text of 1-256 characters, e.g. \"KubeOS 2.0.0\" or v2)");
  }

  @Test
  void aFileNameIsTheVersionWhenItIsAPlainTokenElseItsHash() {
    assertThat(Versions.fileName("v1")).isEqualTo("v1");
    assertThat(Versions.fileName("sha-0123456789ab")).isEqualTo("sha-0123456789ab");
    assertThat(Versions.fileName("KubeOS 2.0.0")).matches("sha256-[0-9a-f]{32}");
    assertThat(Versions.fileName("../../etc/passwd")).matches("sha256-[0-9a-f]{32}");
    assertThat(Versions.fileName("..")).matches("sha256-[0-9a-f]{32}");
    assertThat(Versions.fileName("KubeOS 2.0.0")).isNotEqualTo(Versions.fileName("KubeOS 2.0.1"));
  }

  @Property(tries = 300)
  void aFileNameIsNeverAPath(@ForAll @StringLength(min = 1, max = 80) String version) {
    String name = Versions.fileName(version);
    assertThat(name).doesNotContain("/", "\u0000").isNotIn(".", "..").hasSizeLessThanOrEqualTo(71);
    assertThat(name).matches("[A-Za-z0-9._+~-]+");
  }
}
