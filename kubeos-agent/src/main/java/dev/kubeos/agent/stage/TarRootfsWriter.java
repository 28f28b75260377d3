package dev.kubeos.agent.stage;

import dev.kubeos.agent.model.Sha256;
import dev.kubeos.agent.payload.ResumingInputStream;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.PayloadSource;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * Stages a rootfs tarball into a slot: the payload is read once while hashing and safely extracted
 * into a work directory; only when its digest matches is the slot formatted with {@code mkfs.ext4
 * -d} from that directory (at the slot's byte offset of the disk). The work directory is removed
 * afterwards whatever happens.
 */
public final class TarRootfsWriter {
  private static final long PROGRESS_NANOS = 250_000_000L;

  private final CommandRunner runner;
  private final Duration mkfsTimeout;
  private final int maxResumes;

  public TarRootfsWriter(CommandRunner runner) {
    this(runner, Duration.ofMinutes(30), 5);
  }

  public TarRootfsWriter(CommandRunner runner, Duration mkfsTimeout, int maxResumes) {
    this.runner = runner;
    this.mkfsTimeout = mkfsTimeout;
    this.maxResumes = maxResumes;
  }

  /**
   * @param diskPath the whole disk (block device or image file) holding the slot
   * @param slotOffset byte offset of the slot on the disk
   * @param slotSize slot size in bytes (a multiple of 1024)
   * @param label ext4 volume label (at most 16 bytes)
   * @param workDir extraction directory; must not exist or be empty; deleted afterwards
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
    long start = System.nanoTime();
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
    Files.createDirectories(workDir);
    try (Stream<Path> s = Files.list(workDir)) {
      if (s.findAny().isPresent()) {
        throw new AgentException(
            ErrorCode.PRECONDITION_FAILED,
            "work directory " + workDir + " is not empty; remove it and retry");
      }
    }
    try (ResumingInputStream in =
        new ResumingInputStream(src, maxResumes, Duration.ofMillis(200))) {
      long total = in.totalLength().orElse(-1);
      MessageDigest md = RawImageWriter.sha256();
      InputStream counted = new Progress(new DigestInputStream(in, md), progress, total);
      SafeTarExtractor.extract(counted, workDir, slotSize);
      Sha256 actual = Sha256.of(md.digest());
      long bytes = in.position();
      if (!actual.equals(expected)) {
        throw new AgentException(
            ErrorCode.CHECKSUM_MISMATCH,
            src.describe()
                + ": expected "
                + expected
                + " but the "
                + bytes
                + " bytes received hash to "
                + actual
                + "; the slot was not touched");
      }
      mkfs(diskPath, slotOffset, slotSize, label, workDir);
      progress.progress(bytes, total);
      return new StageResult(
          bytes, actual, false, Duration.ofNanos(System.nanoTime() - start), in.resumes());
    } finally {
      WorkDirs.deleteRecursively(workDir);
    }
  }

  private void mkfs(Path disk, long offset, long size, String label, Path dir) throws IOException {
    List<String> argv =
        List.of(
            "mkfs.ext4",
            "-q",
            "-F",
            "-L",
            label,
            "-E",
            "offset=" + offset + ",root_owner=0:0",
            "-d",
            dir.toString(),
            disk.toString(),
            (size / 1024) + "k");
    CommandRunner.Result r = runner.run(argv, mkfsTimeout);
    if (!r.ok()) {
      throw new AgentException(
          ErrorCode.IO_ERROR,
          String.join(" ", argv)
              + (r.timedOut() ? " timed out" : " exited with status " + r.exitStatus())
              + ": "
              + r.output().strip());
    }
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
