package dev.kubeos.agent.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.files.WorkDirs;
import dev.kubeos.testing.TestDisks;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
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

  /**
   * A sparse file made by GNU tar ({@code --sparse}) in the given format: {@code gnu} (old GNU
   * sparse headers) or {@code posix-0.0}, {@code posix-0.1}, {@code posix-1.0} (PAX sparse
   * versions).
   */
  private byte[] gnuSparseTar(String format, Path file) throws Exception {
    List<String> argv = new ArrayList<>(List.of("tar", "--sparse", "--owner=0", "--group=0"));
    if (format.equals("gnu")) {
      argv.add("--format=gnu");
    } else {
      argv.addAll(List.of("--format=posix", "--sparse-version=" + format.substring(6)));
    }
    Path out = tmp.resolve("sparse-" + format + ".tar");
    argv.addAll(List.of("-cf", out.toString(), "-C", file.getParent().toString()));
    argv.add(file.getFileName().toString());
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(output).isZero();
    return Files.readAllBytes(out);
  }

  private static void writeAt(Path file, long offset, byte[] data) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(data), offset);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gnu", "posix-0.0", "posix-0.1", "posix-1.0"})
  void refusesASparseEntryWhoseRealSizeExceedsTheBoundBeforeWritingIt(String format)
      throws Exception {
    Path src = Files.createDirectory(tmp.resolve("src"));
    Path big = src.resolve("huge.img");
    Files.createFile(big);
    writeAt(big, 0, "head".getBytes(StandardCharsets.UTF_8));
    writeAt(big, (1L << 30) - 4, "tail".getBytes(StandardCharsets.UTF_8));
    byte[] tar = gnuSparseTar(format, big);
    assertThat(tar.length).isLessThan(64 << 10); // a few KiB that claim 1 GiB
    long bound = 64L << 20;
    assertThatThrownBy(() -> SafeTarExtractor.extract(new ByteArrayInputStream(tar), root, bound))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE);
              assertThat(e.getMessage())
                  .contains("huge.img'")
                  .contains(Long.toString(1L << 30))
                  .contains("bound of " + bound + " bytes");
            });
    try (Stream<Path> left = Files.list(root)) {
      assertThat(left).isEmpty(); // not a byte of the entry was written
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gnu", "posix-0.0", "posix-0.1", "posix-1.0"})
  void extractsASparseFileWithinTheBoundExactlyAndSparse(String format) throws Exception {
    Path src = Files.createDirectory(tmp.resolve("src"));
    Path file = src.resolve("disk.img");
    Files.createFile(file);
    Random random = new Random(7);
    for (long at : new long[] {0, 3L << 20, 5L << 20, (8L << 20) - 1000}) {
      byte[] data = new byte[1000];
      random.nextBytes(data);
      writeAt(file, at, data);
    }
    TestDisks.run("truncate", "-s", Long.toString(12L << 20), file.toString()); // ends in a hole
    byte[] tar = gnuSparseTar(format, file);
    assertThat(tar.length).isLessThan(64 << 10);

    SafeTarExtractor.Summary s =
        SafeTarExtractor.extract(new ByteArrayInputStream(tar), root, 16L << 20);

    Path out = root.resolve("disk.img");
    assertThat(Files.size(out)).isEqualTo(12L << 20);
    assertThat(Files.mismatch(out, file)).isEqualTo(-1L);
    assertThat(s.bytes()).isEqualTo(12L << 20);
    long allocated = blocks(out) * 512;
    assertThat(allocated).as("bytes allocated on disk").isLessThan(1L << 20);
  }

  @Test
  void aSparseFileCountsItsRealSizeAgainstTheTotal() throws Exception {
    Path src = Files.createDirectory(tmp.resolve("src"));
    Path file = src.resolve("sparse.img");
    Files.createFile(file);
    writeAt(file, 0, "x".getBytes(StandardCharsets.UTF_8));
    TestDisks.run("truncate", "-s", Long.toString(600_000), file.toString());
    byte[] sparse = gnuSparseTar("posix-1.0", file);
    // within the bound alone, past it after a 600,000-byte sparse file: the real sizes add up
    long bound = 1 << 20;
    SafeTarExtractor.extract(new ByteArrayInputStream(sparse), root, bound);
    WorkDirs.deleteRecursively(root);
    Files.createDirectory(root);
    byte[] both = concatTars(new Tars().file("first", new byte[500_000]).toBytes(), sparse);
    assertThatThrownBy(() -> SafeTarExtractor.extract(new ByteArrayInputStream(both), root, bound))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE);
              assertThat(e.getMessage()).contains("sparse.img'").contains("500512 used");
            });
    assertThat(root.resolve("sparse.img")).doesNotExist();
  }

  /** The entries of {@code a} followed by those of {@code b} (a's end-of-archive dropped). */
  private static byte[] concatTars(byte[] a, byte[] b) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(a))) {
      TarArchiveEntry e = in.getNextEntry();
      out.write(a, 0, (int) (512 + ((e.getSize() + 511) / 512) * 512));
    }
    out.write(b);
    return out.toByteArray();
  }

  private static long blocks(Path p) throws Exception {
    Process proc = new ProcessBuilder("stat", "-c", "%b", p.toString()).start();
    String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(proc.waitFor()).isZero();
    return Long.parseLong(out);
  }

  @ParameterizedTest
  @ValueSource(bytes = {TarConstants.LF_PAX_EXTENDED_HEADER_LC, TarConstants.LF_GNUTYPE_LONGNAME})
  void refusesHeadersBiggerThanTheMetadataBoundWithoutReadingThemWhole(byte type)
      throws IOException {
    // a header entry declaring 2 GiB of PAX records / long name, streamed lazily
    TarArchiveEntry h = new TarArchiveEntry("././@Header", type);
    h.setSize(2L << 30);
    byte[] block = new byte[512];
    h.writeEntryHeader(block);
    byte[] start =
        (type == TarConstants.LF_PAX_EXTENDED_HEADER_LC ? "2147483000 path=" : "")
            .getBytes(StandardCharsets.US_ASCII);
    long[] served = {0};
    InputStream endless =
        new InputStream() {
          @Override
          public int read() {
            served[0]++;
            return 'a';
          }

          @Override
          public int read(byte[] b, int off, int len) {
            Arrays.fill(b, off, off + len, (byte) 'a');
            served[0] += len;
            return len;
          }
        };
    InputStream tar =
        new SequenceInputStream(
            new ByteArrayInputStream(block),
            new SequenceInputStream(new ByteArrayInputStream(start), endless));
    assertThatThrownBy(() -> SafeTarExtractor.extract(tar, root, 1L << 40))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_INVALID);
              assertThat(e.getMessage())
                  .contains("headers of its first entry")
                  .contains(Integer.toString(SafeTarExtractor.MAX_ENTRY_METADATA));
            });
    // read a bounded prefix, not the 2 GiB (the tar reader keeps these bytes in memory)
    assertThat(served[0]).isLessThan(SafeTarExtractor.MAX_ENTRY_METADATA + (1L << 20));
  }

  @Test
  void headersWithinTheMetadataBoundAreFine() throws IOException {
    String name = "usr/" + ("n".repeat(200) + "/").repeat(14) + "file"; // a PAX path record
    extract(new Tars().file(name, "ok", 0644).toBytes());
    assertThat(root.resolve(name)).hasContent("ok");
  }
}
