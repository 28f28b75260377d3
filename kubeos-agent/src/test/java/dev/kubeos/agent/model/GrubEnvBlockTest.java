package dev.kubeos.agent.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GrubEnvBlockTest {

  private static byte[] block(String content) {
    byte[] b = new byte[GrubEnvBlock.SIZE];
    Arrays.fill(b, (byte) '#');
    byte[] c = content.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(c, 0, b, 0, c.length);
    return b;
  }

  @Test
  void encodesHeaderLinesEscapesAndPadding() {
    Map<String, String> vars = new LinkedHashMap<>();
    vars.put("a", "1");
    vars.put("b", "x\\y\nz");
    vars.put("empty", "");
    byte[] b = GrubEnvBlock.encode(vars);
    assertThat(b).hasSize(1024);
    String expected = "# GRUB Environment Block\na=1\nb=x\\\\y\\\nz\nempty=\n";
    assertThat(new String(b, 0, expected.length(), StandardCharsets.UTF_8)).isEqualTo(expected);
    for (int i = expected.length(); i < b.length; i++) {
      assertThat(b[i]).as("padding at %d", i).isEqualTo((byte) '#');
    }
    assertThat(GrubEnvBlock.parse(b)).contains(new LinkedHashMap<>(vars));
  }

  @Test
  void rejectsWrongSizeOrHeader() {
    byte[] good = GrubEnvBlock.encode(Map.of("k", "v"));
    assertThat(GrubEnvBlock.parse(good)).isPresent();
    assertThat(GrubEnvBlock.parse(null)).isEmpty();
    assertThat(GrubEnvBlock.parse(Arrays.copyOf(good, 1023))).isEmpty();
    assertThat(GrubEnvBlock.parse(Arrays.copyOf(good, 2048))).isEmpty();
    byte[] bad = good.clone();
    bad[0] = ' ';
    assertThat(GrubEnvBlock.parse(bad)).isEmpty();
  }

  @Test
  void readsLikeGrubOnDamagedBlocks() {
    // A value running into the end of the block is dropped, and reading stops there.
    byte[] cut = block("# GRUB Environment Block\na=1\nb=2");
    Arrays.fill(cut, 33, cut.length, (byte) 'x');
    assertThat(GrubEnvBlock.parse(cut)).contains(new LinkedHashMap<>(Map.of("a", "1")));
    // A line without '=' swallows the following line into the name, as GRUB does.
    LinkedHashMap<String, String> odd =
        GrubEnvBlock.parse(block("# GRUB Environment Block\nnoequals\nc=3\n# comment=x\nc=4\n"))
            .orElseThrow();
    assertThat(odd).containsExactly(Map.entry("noequals\nc", "3"), Map.entry("c", "4"));
    // NUL ends a name or value (GRUB handles C strings).
    assertThat(GrubEnvBlock.parse(block("# GRUB Environment Block\nk=ab\0cd\n")).orElseThrow())
        .containsExactly(Map.entry("k", "ab"));
  }

  @Test
  void lastDuplicateWins() {
    assertThat(GrubEnvBlock.parse(block("# GRUB Environment Block\nk=1\nj=2\nk=3\n")).orElseThrow())
        .containsExactly(Map.entry("k", "3"), Map.entry("j", "2"));
  }

  @Test
  void fitsExactlyAndReportsOverflowSize() {
    // header 25 + "v=" + value + "\n" == 1024
    String exact = "y".repeat(1024 - 25 - 3);
    byte[] b = GrubEnvBlock.encode(Map.of("v", exact));
    assertThat(b[1023]).isEqualTo((byte) '\n');
    assertThat(GrubEnvBlock.parse(b).orElseThrow()).containsEntry("v", exact);
    assertThatThrownBy(() -> GrubEnvBlock.encode(Map.of("v", exact + "\\")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1026 bytes")
        .hasMessageContaining("1024");
  }

  @Test
  void rejectsUnrepresentableNames() {
    for (String name : new String[] {"", "a=b", "#c", "x\ny"}) {
      assertThatThrownBy(() -> GrubEnvBlock.encode(Map.of(name, "v")))
          .as("name %s", name)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> GrubEnvBlock.encode(Map.of("k", "a\0b")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
