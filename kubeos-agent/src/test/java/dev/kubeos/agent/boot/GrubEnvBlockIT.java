package dev.kubeos.agent.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.formats.boot.GrubEnvBlock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cross-checks {@link GrubEnvBlock} against the real grub-editenv. */
class GrubEnvBlockIT {

  @TempDir Path dir;

  private static LinkedHashMap<String, String> sample() {
    LinkedHashMap<String, String> v = new LinkedHashMap<>();
    v.put("kubeos_seq", "41");
    v.put("kubeos_default", "B");
    v.put("kubeos_trial", "");
    v.put("kubeos_trial_id", "7");
    v.put("kubeos_cmdline_a", "console=ttyS0,115200 quiet");
    v.put("kubeos_cmdline_b", "a\\b trailing\\");
    v.put("kubeos_seq_end", "41");
    return v;
  }

  private static String listing(Map<String, String> vars) {
    return vars.entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue() + "\n")
        .collect(Collectors.joining());
  }

  /** {@code set k1=v1 k2=v2 ...}: grub-editenv arguments setting the variables in order. */
  private static String[] assignments(Map<String, String> vars) {
    return Stream.concat(
            Stream.of("set"), vars.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()))
        .toArray(String[]::new);
  }

  @Test
  void grubEditenvListsWhatWeEncode() throws Exception {
    LinkedHashMap<String, String> vars = sample();
    vars.put("multi", "line one\nline two");
    Path f = dir.resolve("ours");
    Files.write(f, GrubEnvBlock.encode(vars));
    assertThat(GrubTools.editenv(f, "list")).isEqualTo(listing(vars));
  }

  @Test
  void ourBytesEqualGrubEditenvBytesForTheSameVariables() throws Exception {
    LinkedHashMap<String, String> vars = sample();
    vars.put("newline", "x\ny");
    Path f = dir.resolve("theirs");
    GrubTools.editenv(f, "create");
    assertThat(Files.readAllBytes(f)).isEqualTo(GrubEnvBlock.encode(Map.of()));
    GrubTools.editenv(f, assignments(vars));
    byte[] theirs = Files.readAllBytes(f);
    assertThat(theirs).isEqualTo(GrubEnvBlock.encode(vars));
    assertThat(GrubEnvBlock.parse(theirs)).contains(vars);
  }

  @Test
  void weParseWhatGrubEditenvRewritesInPlace() throws Exception {
    Path f = dir.resolve("edited");
    GrubTools.editenv(f, "create");
    GrubTools.editenv(f, assignments(sample()));
    // shorten, lengthen and unset values: grub-editenv moves the following lines in place
    GrubTools.editenv(f, "set", "kubeos_cmdline_a=", "kubeos_seq=1000", "kubeos_trial_id=a\\\\b");
    GrubTools.editenv(f, "unset", "kubeos_trial");
    GrubTools.editenv(f, "set", "kubeos_cmdline_b=" + "z".repeat(300));
    String list = GrubTools.editenv(f, "list");
    LinkedHashMap<String, String> ours = GrubEnvBlock.parse(Files.readAllBytes(f)).orElseThrow();
    assertThat(listing(ours)).isEqualTo(list);
    assertThat(ours)
        .containsEntry("kubeos_seq", "1000")
        .containsEntry("kubeos_cmdline_a", "")
        .containsEntry("kubeos_trial_id", "a\\\\b")
        .containsEntry("kubeos_cmdline_b", "z".repeat(300))
        .doesNotContainKey("kubeos_trial");
  }

  @Test
  void aValueWithBackslashesRoundTripsBothWays() throws Exception {
    String value = "\\ \\\\ end\\";
    Path ours = dir.resolve("bs-ours");
    Files.write(ours, GrubEnvBlock.encode(Map.of("k", value)));
    assertThat(GrubTools.editenv(ours, "list")).isEqualTo("k=" + value + "\n");
    Path theirs = dir.resolve("bs-theirs");
    GrubTools.editenv(theirs, "create");
    GrubTools.editenv(theirs, "set", "k=" + value);
    assertThat(GrubEnvBlock.parse(Files.readAllBytes(theirs)).orElseThrow())
        .containsExactly(Map.entry("k", value));
  }

  @Test
  void theLargestValueThatFitsFitsForBoth() throws Exception {
    String exact = "y".repeat(1024 - 25 - 69 - "v=\n".length());
    Path f = dir.resolve("full");
    GrubTools.editenv(f, "create");
    GrubTools.editenv(f, "set", "v=" + exact);
    assertThat(Files.readAllBytes(f)).isEqualTo(GrubEnvBlock.encode(Map.of("v", exact)));
    // one byte more: grub-editenv refuses as our encoder does
    Path g = dir.resolve("over");
    GrubTools.editenv(g, "create");
    GrubTools.Result r = GrubTools.run("grub-editenv", g.toString(), "set", "v=" + exact + "y");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("too small");
  }
}
