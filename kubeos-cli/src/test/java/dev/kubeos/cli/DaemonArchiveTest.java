package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which archive files {@link DaemonArchive} takes for broken, from the JVM's options. */
class DaemonArchiveTest {
  @TempDir Path dir;

  private List<String> flags(Path archive) {
    return List.of(
        "-XX:+UseSerialGC", "-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=" + archive);
  }

  @Test
  void anEmptyFileOrOneWithoutTheMagicIsBroken() throws Exception {
    Path empty = Files.write(dir.resolve("empty.jsa"), new byte[0]);
    Path zeros = Files.write(dir.resolve("zeros.jsa"), new byte[4096]);
    Path short3 =
        Files.write(dir.resolve("short.jsa"), new byte[] {(byte) 0xa8, (byte) 0xba, 0x0b});
    Path staticArchive = Files.write(dir.resolve("static.jsa"), magic(0xf00baba2));
    for (Path p : List.of(empty, zeros, short3, staticArchive)) {
      assertThat(DaemonArchive.broken(flags(p))).as(p.toString()).contains(p);
    }
  }

  @Test
  void aDynamicArchiveAMissingFileAndAnArchiveTheJvmOnlyReadsAreLeftAlone() throws Exception {
    Path good = Files.write(dir.resolve("good.jsa"), magic(DaemonArchive.DYNAMIC_MAGIC));
    assertThat(DaemonArchive.broken(flags(good))).isEmpty();
    assertThat(DaemonArchive.broken(flags(dir.resolve("none.jsa")))).isEmpty();
    Path admins = Files.write(dir.resolve("admins.jsa"), new byte[0]);
    assertThat(DaemonArchive.broken(List.of("-XX:SharedArchiveFile=" + admins))).isEmpty();
    assertThat(DaemonArchive.broken(List.of("-XX:+AutoCreateSharedArchive"))).isEmpty();
  }

  @Test
  void thisJvmsOwnOptionsAreReadUpToTheJarOrMainClass() throws Exception {
    List<String> own = DaemonArchive.ownJvmArgs();
    assertThat(own).allMatch(a -> a.startsWith("-")).doesNotContain("-jar");
    // nothing of this JVM names an archive it makes: removeIfBroken says nothing
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    DaemonArchive.removeIfBroken(new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  private static byte[] magic(int m) {
    return ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putInt(m).array();
  }
}
