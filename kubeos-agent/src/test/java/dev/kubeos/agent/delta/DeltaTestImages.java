package dev.kubeos.agent.delta;

import dev.kubeos.formats.chunk.ChunkerParams;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/**
 * Real parts for delta tests: two 40 MiB ext4 images made by {@code mkfs.ext4 -d} (fixed UUID and
 * hash seed, so unchanged content stays where it was) from trees of pseudo-random "packages"; v2 =
 * v1 plus one 3 MiB package and another os-release; v2's chunk index beside it; and a sgdisk GPT
 * disk image with v1 in ROOT-A.
 *
 * @param v1 the v1 image
 * @param v2 the v2 image ({@code v2.img.chunkidx} beside it)
 * @param disk the GPT disk image, v1 in ROOT-A, ROOT-B empty
 */
public record DeltaTestImages(Path v1, Path v2, Path disk) {
  public static final long IMAGE_MIB = 40;
  public static final int PACKAGE_BYTES = 3 << 20;

  public static DeltaTestImages create(Path dir) throws IOException {
    Path v1Tree = dir.resolve("v1");
    writeBase(v1Tree, "1");
    Path v2Tree = dir.resolve("v2");
    writeBase(v2Tree, "2");
    writePackage(v2Tree.resolve("usr/lib/newpkg"), 99, PACKAGE_BYTES);
    Path v1 = mkfs(v1Tree, dir.resolve("v1.img"));
    Path v2 = mkfs(v2Tree, dir.resolve("v2.img"));
    ChunkIndexFiles.writeIndex(v2, ChunkerParams.ext4Defaults());
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 64, 8);
    writeIntoSlot(disk, "ROOT-A", Files.readAllBytes(v1));
    return new DeltaTestImages(v1, v2, disk);
  }

  /** A base tree of a few "packages" of pseudo-random files; os-release names the version. */
  private static void writeBase(Path root, String version) throws IOException {
    Files.createDirectories(root.resolve("etc"));
    Files.writeString(
        root.resolve("etc/os-release"), "PRETTY_NAME=\"KubeOS " + version + "\"\nID=kubeos\n");
    for (int p = 0; p < 6; p++) {
      writePackage(root.resolve("usr/lib/pkg" + p), p, (2 << 20) + p * 100_000);
    }
  }

  private static void writePackage(Path dir, long seed, int bytes) throws IOException {
    Files.createDirectories(dir);
    Random r = new Random(seed);
    int file = 0;
    for (int left = bytes; left > 0; file++) {
      int n = Math.min(left, 20_000 + r.nextInt(300_000));
      byte[] b = new byte[n];
      r.nextBytes(b);
      Files.write(dir.resolve("f" + file + ".so"), b);
      left -= n;
    }
  }

  private static Path mkfs(Path tree, Path image) {
    String uuid = "5b3c1f0e-8a2d-4c6e-9f10-1234567890ab";
    TestDisks.run(
        "mkfs.ext4",
        "-q",
        "-F",
        "-b",
        "4096",
        "-U",
        uuid,
        "-E",
        "root_owner=0:0,hash_seed=" + uuid,
        "-d",
        tree.toString(),
        image.toString(),
        IMAGE_MIB + "M");
    return image;
  }

  public static void writeIntoSlot(Path disk, String partition, byte[] bytes) throws IOException {
    TestDisks.Part p = TestDisks.partition(disk, partition);
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(bytes), p.offsetBytes());
    }
  }

  public static byte[] slotBytes(Path disk, String partition, long length) throws IOException {
    TestDisks.Part p = TestDisks.partition(disk, partition);
    byte[] b = new byte[(int) length];
    try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "r")) {
      f.seek(p.offsetBytes());
      f.readFully(b);
    }
    return b;
  }
}
