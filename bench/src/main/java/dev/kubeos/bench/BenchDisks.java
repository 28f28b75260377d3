package dev.kubeos.bench;

import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Disk-file chores the staging benchmarks share. */
final class BenchDisks {
  private BenchDisks() {}

  /** Empties a slot (a hole reads as zeros), as on a node whose slot was never written. */
  static void punch(Path disk, TestDisks.Part p) {
    TestDisks.run(
        "fallocate",
        "--punch-hole",
        "--offset",
        String.valueOf(p.offsetBytes()),
        "--length",
        String.valueOf(p.sizeBytes()),
        disk.toString());
  }

  /** Writes {@code image} at the start of partition {@code p} of {@code disk}. */
  static void copyInto(Path image, Path disk, TestDisks.Part p) throws IOException {
    try (FileChannel in = FileChannel.open(image);
        FileChannel out = FileChannel.open(disk, StandardOpenOption.WRITE)) {
      long n = in.size();
      for (long at = 0; at < n; ) {
        at += in.transferTo(at, n - at, out.position(p.offsetBytes() + at));
      }
    }
  }

  static Sha256 sha256(Path f) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(f)) {
      for (int n = in.read(buf); n > 0; n = in.read(buf)) {
        md.update(buf, 0, n);
      }
    }
    return Sha256.of(md.digest());
  }
}
