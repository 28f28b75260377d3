package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.TarPayload;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.http.ResumingInputStream;
import dev.kubeos.oci.source.PayloadSource;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Stages a rootfs tarball into a slot: the payload is read once while hashing and safely extracted
 * into a private work directory (a 0700 directory whose extraction root is mounted {@code
 * nosuid,nodev,noexec}, see {@link PrivateWorkDir}), so that no extracted file is reachable by
 * another user or executable with privileges before the digest matches; only then is the slot
 * formatted with {@code mkfs.ext4 -d} from that tree (at the slot's byte offset of the disk). The
 * work directory is unmounted and removed afterwards whatever happens.
 */
public final class TarRootfsWriter {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");
  private static final long PROGRESS_NANOS = 250_000_000L;

  private final CommandRunner runner;
  private final CommandRunner mounts;
  private final Duration mkfsTimeout;
  private final int maxResumes;

  public TarRootfsWriter(CommandRunner runner) {
    this(runner, runner, Duration.ofMinutes(30), 5);
  }

  /**
   * @param runner runs mkfs.ext4 (the first command that writes the slot)
   * @param mounts runs mount(8) and umount(8) for the work dir, which never touch the slot
   */
  public TarRootfsWriter(
      CommandRunner runner, CommandRunner mounts, Duration mkfsTimeout, int maxResumes) {
    this.runner = runner;
    this.mounts = mounts;
    this.mkfsTimeout = mkfsTimeout;
    this.maxResumes = maxResumes;
  }

  /**
   * @param diskPath the whole disk (block device or image file) holding the slot
   * @param slotOffset byte offset of the slot on the disk
   * @param slotSize slot size in bytes (a multiple of 1024)
   * @param label ext4 volume label (at most 16 bytes)
   * @param workDir private work directory; must not exist or be empty; deleted afterwards
   * @throws AgentException DOWNLOAD_FAILED, PAYLOAD_INVALID, PAYLOAD_TOO_LARGE, CHECKSUM_MISMATCH,
   *     INVALID_REQUEST, IO_ERROR (mkfs.ext4 failed)
   */
  public StageResult write(
      PayloadSource src,
      Sha256 expected,
      Path diskPath,
      long slotOffset,
      long slotSize,
      String label,
      Path workDir,
      ProgressListener progress)
      throws IOException {
    try (DigestedPayload payload = new DigestedPayload(src, expected, maxResumes)) {
      return write(payload, new Target(diskPath, slotOffset, slotSize, label, workDir), progress);
    }
  }

  /**
   * {@code src} as a tar payload whose bytes as a whole must hash to {@code expected} (5 resumes of
   * a broken download).
   */
  public static TarPayload digested(PayloadSource src, Sha256 expected) {
    return new DigestedPayload(src, expected, 5);
  }

  /**
   * Where a tar payload goes.
   *
   * @param disk the whole disk (block device or image file) holding the slot
   * @param offset byte offset of the slot on the disk
   * @param size slot size in bytes (a multiple of 1024)
   * @param label ext4 volume label (at most 16 bytes)
   * @param workDir private work directory (made 0700, the tree goes into its {@code rootfs} mount);
   *     must not exist or be empty; deleted afterwards
   */
  public record Target(Path disk, long offset, long size, String label, Path workDir) {}

  /**
   * Stages the tar of {@code payload}: extracts it into the target's work dir, lets the payload
   * {@link TarPayload#verify() verify} itself, and only then formats the slot. The same errors as
   * {@link #write(PayloadSource, Sha256, Path, long, long, String, Path, ProgressListener)}.
   */
  public StageResult write(TarPayload payload, Target target, ProgressListener progress)
      throws IOException {
    long start = System.nanoTime();
    Path diskPath = target.disk();
    long slotOffset = target.offset();
    long slotSize = target.size();
    String label = target.label();
    Path workDir = target.workDir();
    if (slotOffset < 0 || slotSize <= 0 || slotSize % 1024 != 0) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "slot offset "
              + slotOffset
              + " / size "
              + slotSize
              + " invalid: size must be a"
              + " positive multiple of 1024");
    }
    if (label.getBytes(StandardCharsets.UTF_8).length > 16) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "ext4 label '" + label + "' is longer than 16 bytes");
    }
    try (PrivateWorkDir work = PrivateWorkDir.create(workDir, mounts, ProcessIdentity.isRoot())) {
      Path tree = work.rootfs();
      InputStream in = payload.open();
      long total = payload.length();
      SafeTarExtractor.extract(new Progress(in, progress, total), tree, slotSize);
      Sha256 actual = payload.verify(); // throws unless every digest matched; nothing written yet
      long extracted = System.nanoTime();
      mkfs(diskPath, slotOffset, slotSize, label, tree);
      long bytes = payload.bytes();
      LOG.log(
          System.Logger.Level.INFO,
          String.format(
              "%s: %d bytes received and extracted into %s in %.1f s, mkfs.ext4 -d in %.1f s",
              payload.describe(),
              bytes,
              tree,
              (extracted - start) / 1e9,
              (System.nanoTime() - extracted) / 1e9));
      progress.progress(bytes, total);
      return new StageResult(
          bytes, actual, false, Duration.ofNanos(System.nanoTime() - start), payload.resumes());
    }
  }

  /** A payload whose bytes as a whole must hash to the expected digest. */
  private static final class DigestedPayload implements TarPayload {
    private final PayloadSource src;
    private final Sha256 expected;
    private final int maxResumes;
    private final MessageDigest md = RawImageWriter.sha256();
    private ResumingInputStream in;

    DigestedPayload(PayloadSource src, Sha256 expected, int maxResumes) {
      this.src = src;
      this.expected = expected;
      this.maxResumes = maxResumes;
    }

    @Override
    public String describe() {
      return src.describe();
    }

    @Override
    public InputStream open() throws IOException {
      in = new ResumingInputStream(src, maxResumes, Duration.ofMillis(200));
      return new DigestInputStream(in, md);
    }

    @Override
    public long length() {
      return in.totalLength().orElse(-1);
    }

    @Override
    public Sha256 verify() {
      Sha256 actual = Sha256.of(md.digest());
      if (!actual.equals(expected)) {
        throw RawImageWriter.checksumMismatch(
            src, expected, in.position(), actual, "the slot was not touched");
      }
      return actual;
    }

    @Override
    public long bytes() {
      return in == null ? 0 : in.position();
    }

    @Override
    public int resumes() {
      return in == null ? 0 : in.resumes();
    }

    @Override
    public void close() throws IOException {
      if (in != null) {
        in.close();
      }
    }
  }

  /**
   * Formats the slot. On a node the disk is a block device whose other partitions are mounted (the
   * booted slot, PERSIST, the ESP): mkfs.ext4 opens a device exclusively and refuses a whole disk
   * in use, even forced. So on a block device it formats the slot's own partition device, found by
   * its start ({@link #partitionAt}): the inactive slot is not mounted, and the exclusive open
   * proves it. A disk image file (or a disk without partition devices) is formatted at the slot's
   * offset.
   *
   * <p>The kernel caches a disk and each of its partitions apart: what the agent reads and writes
   * at the slot's offset of the disk (a delta stage, its read-back, the /etc merge's mount of the
   * new slot) is cached for the disk, what mkfs.ext4 writes goes through the partition's. So around
   * mkfs on a partition the disk's buffers are flushed ({@code blockdev --flushbufs}: dirty pages
   * written back, clean ones dropped): before, so that no page of an earlier write lands on the new
   * file system later (and the partition's, so that no read through it sees what an earlier mkfs
   * left); after, so that no read through the disk sees the slot as it was. Without that, the /etc
   * merge after a tar stage into a slot that an earlier stage had read or written mounted stale
   * pages ("cannot mount; probably corrupted filesystem").
   */
  private void mkfs(Path disk, long offset, long size, String label, Path dir) throws IOException {
    Path target = disk;
    long at = offset;
    Optional<Path> partition = partitionAt(disk, offset);
    if (partition.isPresent()) {
      target = partition.get();
      at = 0;
      flushBuffers(disk);
      flushBuffers(target);
    }
    List<String> argv =
        List.of(
            "mkfs.ext4",
            "-q",
            "-F",
            "-L",
            label,
            "-E",
            "offset=" + at + ",root_owner=0:0",
            "-d",
            dir.toString(),
            target.toString(),
            (size / 1024) + "k");
    requireOk(argv, runner.run(argv, mkfsTimeout));
    if (partition.isPresent()) {
      flushBuffers(disk);
    }
  }

  /** {@code blockdev --flushbufs device}: writes back its dirty pages and drops its clean ones. */
  private void flushBuffers(Path device) throws IOException {
    List<String> argv = List.of("blockdev", "--flushbufs", device.toString());
    requireOk(argv, mounts.run(argv, Duration.ofMinutes(2)));
  }

  /** An IO_ERROR with the command, how it ended and its output, unless it succeeded. */
  private static void requireOk(List<String> argv, CommandRunner.Result r) {
    if (!r.ok()) {
      throw new AgentException(
          ErrorCode.IO_ERROR,
          String.join(" ", argv)
              + (r.timedOut() ? " timed out" : " exited with status " + r.exitStatus())
              + ": "
              + r.output().strip());
    }
  }

  /**
   * The partition device of block device {@code disk} that starts at byte {@code offset}, from
   * sysfs ({@code /sys/class/block/DISK/PART/start}, in 512-byte sectors); empty for a regular file
   * or when the kernel shows no such partition.
   */
  static Optional<Path> partitionAt(Path disk, long offset) throws IOException {
    if (!Files.exists(disk) || Files.isRegularFile(disk)) {
      return Optional.empty();
    }
    Path sys = Path.of("/sys/class/block", disk.toRealPath().getFileName().toString());
    if (!Files.isDirectory(sys)) {
      return Optional.empty();
    }
    try (DirectoryStream<Path> parts = Files.newDirectoryStream(sys)) {
      for (Path p : parts) {
        Path start = p.resolve("start");
        if (Files.isRegularFile(p.resolve("partition"))
            && Files.isRegularFile(start)
            && Long.parseLong(Files.readString(start).strip()) * 512 == offset) {
          Path dev = Path.of("/dev", p.getFileName().toString());
          if (Files.exists(dev)) {
            return Optional.of(dev);
          }
        }
      }
    }
    return Optional.empty();
  }

  /** Reports bytes read, at most four times a second. */
  private static final class Progress extends FilterInputStream {
    private final ProgressListener listener;
    private final long total;
    private long done;
    private long last;

    Progress(InputStream in, ProgressListener listener, long total) {
      super(in);
      this.listener = listener;
      this.total = total;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      count(b < 0 ? -1 : 1);
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      count(n);
      return n;
    }

    private void count(int n) {
      if (n > 0) {
        done += n;
        long now = System.nanoTime();
        if (now - last >= PROGRESS_NANOS) {
          last = now;
          listener.progress(done, total);
        }
      }
    }
  }
}
