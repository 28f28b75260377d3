package dev.kubeos.agent.disk;

import com.sun.nio.file.ExtendedOpenOption;
import dev.kubeos.agent.port.BlockDevice;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * A {@link BlockDevice} on a {@link FileChannel}: a disk image file or a Linux block device node.
 *
 * <p>Size: on Linux, JDK 17 answers {@link FileChannel#size()} for a block device with the
 * BLKGETSIZE64 ioctl (checked with OpenJDK 17.0.15 on a loop device: 8 MiB reported for an 8 MiB
 * backing file). A JDK that reports {@code st_size} instead would return 0, so when the channel
 * says 0 and the path is a block device (from the {@code unix:mode} attribute), the size is read
 * from {@code /sys/dev/block/MAJOR:MINOR/size} (always in 512-byte units, whatever the logical
 * sector size) using the node's {@code unix:rdev}. The size is fixed when the device is opened.
 *
 * <p>Uncached reads: a second channel is opened with {@link ExtendedOpenOption#DIRECT} (O_DIRECT).
 * The JDK then requires offsets, lengths and buffer addresses aligned to {@code
 * FileStore.getBlockSize()}, so {@link #readUncached} reads whole aligned blocks into an aligned
 * direct buffer and copies out the requested range. If the file system refuses O_DIRECT at open
 * time, or a direct read fails with EINVAL ("Invalid argument", the kernel's answer for unsupported
 * or misaligned direct I/O), reads fall back to the normal cached path and {@link
 * #uncachedReadsBypassCache()} returns false from then on. Any other I/O error is propagated, never
 * masked by a cached re-read.
 */
public final class FileBlockDevice implements BlockDevice {
  private static final int S_IFMT = 0170000;
  private static final int S_IFBLK = 0060000;
  private static final int DIRECT_CHUNK = 1 << 20;

  private final Path path;
  private final FileChannel channel;
  private final boolean writable;
  private final long size;
  private final Object directLock = new Object();
  private FileChannel direct;
  private ByteBuffer directBuffer;
  private int alignment;
  private volatile boolean bypass;
  private volatile String directProblem;

  private FileBlockDevice(Path path, FileChannel channel, boolean writable, long size) {
    this.path = path;
    this.channel = channel;
    this.writable = writable;
    this.size = size;
  }

  /** Opens a disk image or block device; {@code writable=false} opens it read-only. */
  public static FileBlockDevice open(Path path, boolean writable) throws IOException {
    return open(path, writable, true);
  }

  /** {@code tryDirect=false} skips O_DIRECT, as if the file system had refused it. */
  static FileBlockDevice open(Path path, boolean writable, boolean tryDirect) throws IOException {
    FileChannel ch =
        writable
            ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
            : FileChannel.open(path, StandardOpenOption.READ);
    try {
      long size = ch.size();
      if (size == 0) {
        Long rdev = blockDeviceNumber(path);
        if (rdev != null) {
          size = sysfsSize(Path.of("/sys"), rdev);
        }
      }
      FileBlockDevice dev = new FileBlockDevice(path, ch, writable, size);
      if (tryDirect) {
        dev.openDirect();
      } else {
        dev.directProblem = "O_DIRECT not attempted";
      }
      return dev;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** The {@code rdev} of {@code path} when it is a block device node, otherwise null. */
  static Long blockDeviceNumber(Path path) throws IOException {
    Map<String, Object> attrs;
    try {
      attrs = Files.readAttributes(path, "unix:mode,rdev");
    } catch (UnsupportedOperationException e) {
      return null;
    }
    int mode = (Integer) attrs.get("mode");
    return (mode & S_IFMT) == S_IFBLK ? (Long) attrs.get("rdev") : null;
  }

  /** Major number of a Linux {@code dev_t} (glibc's {@code gnu_dev_major}). */
  static long major(long rdev) {
    return ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
  }

  /** Minor number of a Linux {@code dev_t} (glibc's {@code gnu_dev_minor}). */
  static long minor(long rdev) {
    return (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
  }

  /** Size in bytes of block device {@code rdev} from {@code sysRoot/dev/block/MAJ:MIN/size}. */
  static long sysfsSize(Path sysRoot, long rdev) throws IOException {
    Path sizeFile = sysRoot.resolve("dev/block/" + major(rdev) + ":" + minor(rdev) + "/size");
    String text;
    try {
      text = Files.readString(sizeFile, StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      throw new IOException(
          "cannot determine the size of block device "
              + major(rdev)
              + ":"
              + minor(rdev)
              + ": "
              + sizeFile
              + " is unreadable ("
              + e.getMessage()
              + "); is /sys mounted?",
          e);
    }
    try {
      return Math.multiplyExact(Long.parseLong(text), 512L);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IOException(sizeFile + " holds '" + text + "', not a sector count", e);
    }
  }

  private void openDirect() {
    try {
      alignment = (int) Math.max(512, Files.getFileStore(path).getBlockSize());
      direct = FileChannel.open(path, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
      bypass = true;
    } catch (IOException | UnsupportedOperationException e) {
      directProblem = "O_DIRECT refused: " + e;
      bypass = false;
    }
  }

  /** The path this device was opened from. */
  public Path path() {
    return path;
  }

  /** Why uncached reads do not bypass the page cache, or null when they do. */
  public String directIoProblem() {
    return directProblem;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    BlockRanges.check("read", offset, dst.remaining(), size);
    readFully(channel, offset, dst);
  }

  @Override
  public void write(long offset, ByteBuffer src) throws IOException {
    if (!writable) {
      throw new IOException(path + " was opened read-only; cannot write");
    }
    BlockRanges.check("write", offset, src.remaining(), size);
    long pos = offset;
    while (src.hasRemaining()) {
      pos += channel.write(src, pos);
    }
  }

  @Override
  public void sync() throws IOException {
    channel.force(true);
  }

  @Override
  public void readUncached(long offset, ByteBuffer dst) throws IOException {
    BlockRanges.check("read", offset, dst.remaining(), size);
    if (bypass) {
      synchronized (directLock) {
        if (bypass) {
          int start = dst.position();
          try {
            readDirect(offset, dst);
            return;
          } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("Invalid argument")) {
              throw e;
            }
            directProblem = "O_DIRECT read failed: " + e.getMessage();
            bypass = false;
            dst.position(start);
          }
        }
      }
    }
    read(offset, dst);
  }

  private void readDirect(long offset, ByteBuffer dst) throws IOException {
    if (directBuffer == null) {
      directBuffer = ByteBuffer.allocateDirect(DIRECT_CHUNK + alignment).alignedSlice(alignment);
    }
    ByteBuffer buf = directBuffer;
    long pos = offset;
    while (dst.hasRemaining()) {
      long blockStart = pos - Math.floorMod(pos, alignment);
      int skip = (int) (pos - blockStart);
      long want = Math.min((long) skip + dst.remaining(), buf.capacity());
      int span = (int) ((want + alignment - 1) / alignment * alignment);
      buf.clear().limit(span);
      int n = 0;
      while (buf.hasRemaining()) {
        int r = direct.read(buf, blockStart + n);
        if (r <= 0) {
          break;
        }
        n += r;
        if (n % alignment != 0) {
          break; // a short read happens only at the end of the file
        }
      }
      int usable = Math.min(n - skip, dst.remaining());
      if (usable <= 0) {
        throw new EOFException("end of " + path + " at " + pos + " during direct read");
      }
      buf.flip().position(skip).limit(skip + usable);
      dst.put(buf);
      pos += usable;
    }
  }

  @Override
  public boolean uncachedReadsBypassCache() {
    return bypass;
  }

  @Override
  public BlockDevice slice(long offset, long length) throws IOException {
    return SlicedBlockDevice.of(this, offset, length);
  }

  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      synchronized (directLock) {
        if (direct != null) {
          direct.close();
        }
      }
    }
  }

  private void readFully(FileChannel ch, long offset, ByteBuffer dst) throws IOException {
    long pos = offset;
    while (dst.hasRemaining()) {
      int n = ch.read(dst, pos);
      if (n < 0) {
        throw new EOFException("end of " + path + " at " + pos);
      }
      pos += n;
    }
  }

  @Override
  public String toString() {
    return path.toString();
  }
}
