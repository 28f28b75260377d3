package dev.kubeos.agent.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.files.WorkDirs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SafeTarExtractorIT {
  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
  @TempDir Path tmp;
  private Path root;
  private Path outside;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectory(tmp.resolve("root"));
    outside = Files.writeString(tmp.resolve("outside.txt"), "precious");
  }

  private SafeTarExtractor.Summary extract(byte[] tar) throws IOException {
    return SafeTarExtractor.extract(new ByteArrayInputStream(tar), root, 1 << 20);
  }

  private void assertRefused(Tars tar, ErrorCode code, String entry) {
    assertThatThrownBy(() -> extract(tar.toBytes()))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(code);
              assertThat(e.getMessage()).contains("'" + entry + "'");
            });
    assertThat(outside).hasContent("precious");
  }

  @Test
  void refusesAbsolutePaths() {
    assertRefused(
        new Tars().file("/etc/passwd", "x", 0644), ErrorCode.PAYLOAD_INVALID, "/etc/passwd");
  }

  @ParameterizedTest
  @ValueSource(strings = {"../x", "a/../../x", "./etc/../../x", "a/.."})
  void refusesDotDot(String name) {
    assertRefused(new Tars().dir("a", 0755).file(name, "x", 0644), ErrorCode.PAYLOAD_INVALID, name);
  }

  @Test
  void refusesRelativeSymlinkLeavingTheRoot() {
    assertRefused(
        new Tars().dir("etc", 0755).symlink("etc/evil", "../../outside.txt"),
        ErrorCode.PAYLOAD_INVALID,
        "etc/evil");
  }

  @Test
  void refusesHardLinksOutsideOrToUnextractedFiles() {
    assertRefused(
        new Tars().hardlink("shadow", "/etc/shadow"), ErrorCode.PAYLOAD_INVALID, "shadow");
    assertRefused(new Tars().hardlink("x", "../outside.txt"), ErrorCode.PAYLOAD_INVALID, "x");
    assertRefused(new Tars().hardlink("early", "later"), ErrorCode.PAYLOAD_INVALID, "early");
  }

  @ParameterizedTest
  @ValueSource(bytes = {TarConstants.LF_CHR, TarConstants.LF_BLK, TarConstants.LF_FIFO})
  void refusesDevicesAndFifos(byte type) {
    assertRefused(
        new Tars().dir("dev", 0755).special("dev/sda", type), ErrorCode.PAYLOAD_INVALID, "dev/sda");
  }

  @Test
  void refusesMoreDataThanTheSlotHolds() {
    Tars tar = new Tars().file("big1", new byte[700_000]).file("big2", new byte[700_000]);
    assertRefused(tar, ErrorCode.PAYLOAD_TOO_LARGE, "big2");
  }

  @Test
  void neverWritesThroughASymlinkedParent() throws IOException {
    Tars tar = new Tars().symlink("lnk", tmp.toString()).file("lnk/outside.txt", "pwned", 0644);
    assertRefused(tar, ErrorCode.PAYLOAD_INVALID, "lnk/outside.txt");
  }

  @Test
  void replacesASymlinkInsteadOfFollowingIt() throws IOException {
    extract(new Tars().symlink("x", outside.toString()).file("x", "new", 0600).toBytes());
    assertThat(Files.isSymbolicLink(root.resolve("x"))).isFalse();
    assertThat(root.resolve("x")).hasContent("new");
    assertThat(outside).hasContent("precious");
  }

  @Test
  void extractsARootfsWithModesLinksAndTimes() throws IOException {
    String longName = "usr/share/" + "d".repeat(120) + "/file";
    Tars tar =
        new Tars()
            .dir("./", 0755)
            .dir("./etc", 0755)
            .file("./etc/os-release", "NAME=KubeOS\n", 0644)
            .dir("./usr/bin", 0755)
            .file("./usr/bin/su", "#!/bin/true\n", 04755)
            .file("./usr/bin/wall", "w", 02755)
            .dir("./tmp", 01777)
            .dir("./ro", 0555)
            .file("./ro/inside", "ro", 0444)
            .symlink("./bin", "usr/bin")
            .symlink("./etc/mtab", "/proc/self/mounts")
            .hardlink("./usr/bin/su-again", "./usr/bin/su")
            .file(longName, "long", 0644);
    for (byte[] bytes : new byte[][] {tar.toBytes(), null}) {
      SafeTarExtractor.Summary s = bytes != null ? extract(bytes) : extract(rootfsGzip(longName));
      assertThat(s.entries()).isEqualTo(13);
      assertThat(root.resolve("etc/os-release")).hasContent("NAME=KubeOS");
      assertThat(mode("usr/bin/su")).isEqualTo(04755);
      assertThat(mode("usr/bin/wall")).isEqualTo(02755);
      assertThat(mode("tmp")).isEqualTo(01777);
      assertThat(mode("ro")).isEqualTo(0555);
      assertThat(mode("ro/inside")).isEqualTo(0444);
      assertThat(Files.readSymbolicLink(root.resolve("bin"))).isEqualTo(Path.of("usr/bin"));
      assertThat(Files.readSymbolicLink(root.resolve("etc/mtab")))
          .isEqualTo(Path.of("/proc/self/mounts"));
      assertThat(Files.getAttribute(root.resolve("usr/bin/su-again"), "unix:ino"))
          .isEqualTo(Files.getAttribute(root.resolve("usr/bin/su"), "unix:ino"));
      assertThat(root.resolve(longName)).hasContent("long");
      assertThat(Files.getLastModifiedTime(root.resolve("etc/os-release")).toInstant())
          .isEqualTo(Tars.MTIME);
      assertThat(Files.getLastModifiedTime(root.resolve("etc")).toInstant()).isEqualTo(Tars.MTIME);
      WorkDirs.deleteRecursively(root);
      Files.createDirectory(root);
    }
  }

  private static byte[] rootfsGzip(String longName) throws IOException {
    return new Tars()
        .dir("./", 0755)
        .dir("./etc", 0755)
        .file("./etc/os-release", "NAME=KubeOS\n", 0644)
        .dir("./usr/bin", 0755)
        .file("./usr/bin/su", "#!/bin/true\n", 04755)
        .file("./usr/bin/wall", "w", 02755)
        .dir("./tmp", 01777)
        .dir("./ro", 0555)
        .file("./ro/inside", "ro", 0444)
        .symlink("./bin", "usr/bin")
        .symlink("./etc/mtab", "/proc/self/mounts")
        .hardlink("./usr/bin/su-again", "./usr/bin/su")
        .file(longName, "long", 0644)
        .toGzip();
  }

  private int mode(String rel) throws IOException {
    return (Integer) Files.getAttribute(root.resolve(rel), "unix:mode", NOFOLLOW) & 07777;
  }

  @Test
  void symlinkInsideTheRootIsFine() throws IOException {
    extract(new Tars().dir("a/b", 0755).symlink("a/b/up", "../../c").toBytes());
    assertThat(Files.readSymbolicLink(root.resolve("a/b/up")).toString()).isEqualTo("../../c");
    assertThat(new String(Files.readAllBytes(outside), StandardCharsets.UTF_8))
        .isEqualTo("precious");
  }
}
