package dev.kubeos.agent.stage;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Extracts a rootfs tarball (plain or gzip, detected by magic bytes) into a directory without ever
 * leaving it: absolute names, {@code ..}, relative symlinks pointing outside, hard links to
 * anything not extracted before, device nodes and FIFOs are rejected (PAYLOAD_INVALID naming the
 * entry); no symlink is followed while creating entries. The extracted size is bounded
 * (PAYLOAD_TOO_LARGE naming the entry and the bound) before any byte of an entry is written: every
 * entry costs {@value #ENTRY_OVERHEAD} bytes of metadata plus, for a regular file, its real size,
 * which for a sparse entry (GNU old sparse, PAX 0.0, 0.1 and 1.0) is the size it expands to, not
 * the few bytes it takes in the tar; an entry that yields more bytes than its header declared is
 * refused. The headers of one entry (PAX and GNU long-name records, sparse maps), which the tar
 * reader holds in memory, may take at most {@value #MAX_ENTRY_METADATA} bytes (PAYLOAD_INVALID).
 * Sparse files are written sparse (all-zero 64 KiB blocks become holes). Modes (incl.
 * setuid/setgid/sticky), mtimes and, when running as root, owners are preserved: the caller
 * extracts where nothing can use them yet ({@link PrivateWorkDir}).
 */
public final class SafeTarExtractor {
  /**
   * What every entry is charged besides its file data, in bytes: an ext4 inode (256) and a
   * directory entry (at most 263), rounded up.
   */
  public static final long ENTRY_OVERHEAD = 512;

  /**
   * Most bytes the tar reader may consume to read one entry's headers (ustar header, PAX and GNU
   * long-name records, sparse map), which it holds in memory.
   */
  public static final int MAX_ENTRY_METADATA = 1 << 20;

  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
  private static final int CHUNK = 64 << 10;

  /**
   * What was extracted: entry count and regular-file bytes (real sizes: a sparse file counts what
   * it expands to).
   */
  public record Summary(long entries, long bytes) {}

  private record Deferred(Path dir, TarArchiveEntry meta) {}

  private final Path root;
  private final long maxBytes;
  private final boolean chown;
  private final Set<String> files = new HashSet<>();
  private final List<Deferred> dirs = new ArrayList<>();
  private long bytes;
  private long charged;
  private long entries;

  private SafeTarExtractor(Path root, long maxBytes) {
    this.root = root;
    this.maxBytes = maxBytes;
    this.chown = ProcessIdentity.isRoot();
  }

  /**
   * Extracts {@code in} (a tar stream, optionally gzip-compressed) into the existing directory
   * {@code root}. Reads the tar up to its end-of-archive marker; the caller drains the rest.
   */
  public static Summary extract(InputStream in, Path root, long maxBytes) throws IOException {
    if (!Files.isDirectory(root, NOFOLLOW)) {
      throw new IOException("extraction root " + root + " is not a directory");
    }
    BufferedInputStream buffered = new BufferedInputStream(in, 64 << 10);
    InputStream tarStream = gunzipIfGzip(buffered);
    SafeTarExtractor x = new SafeTarExtractor(root, maxBytes);
    MetadataBudget budget = new MetadataBudget(tarStream);
    TarArchiveInputStream tar = new TarArchiveInputStream(budget, "UTF-8");
    for (TarArchiveEntry e = budget.header(tar, null); e != null; e = budget.header(tar, e)) {
      x.entry(tar, e);
    }
    x.finishDirectories();
    if (tarStream != buffered) {
      tarStream.transferTo(OutputStream.nullOutputStream()); // rest of the gzip member(s)
    }
    buffered.transferTo(OutputStream.nullOutputStream());
    return new Summary(x.entries, x.bytes);
  }

  /**
   * Bounds what the tar reader may consume while it reads an entry's headers: the ustar header, PAX
   * and GNU long-name records and sparse maps are held in memory, so a tar declaring a 1 GiB PAX
   * record would otherwise exhaust the heap before any check.
   */
  private static final class MetadataBudget extends FilterInputStream {
    private boolean limited;
    private long left;
    private String after;

    MetadataBudget(InputStream in) {
      super(in);
    }

    /** The next entry, reading at most {@link #MAX_ENTRY_METADATA} bytes to get it. */
    TarArchiveEntry header(TarArchiveInputStream tar, TarArchiveEntry previous) throws IOException {
      after = previous == null ? null : previous.getName();
      limited = true;
      left = MAX_ENTRY_METADATA;
      try {
        return tar.getNextEntry();
      } finally {
        limited = false;
      }
    }

    private void take(long n) {
      if (limited && n > 0) {
        left -= n;
        if (left < 0) {
          throw new AgentException(
              ErrorCode.PAYLOAD_INVALID,
              "rootfs tar refused: the headers "
                  + (after == null ? "of its first entry" : "after entry '" + after + "'")
                  + " (PAX or GNU long-name records, sparse map, data of a non-file entry) take"
                  + " more than "
                  + MAX_ENTRY_METADATA
                  + " bytes");
        }
      }
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      take(b < 0 ? 0 : 1);
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      take(n);
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = super.skip(n);
      take(skipped);
      return skipped;
    }
  }

  /**
   * The tar bytes of {@code buffered}: gunzipped (all members) when it starts with the gzip magic,
   * else {@code buffered} itself. Reads two bytes ahead, so {@code buffered} must support mark.
   */
  public static InputStream gunzipIfGzip(InputStream buffered) throws IOException {
    buffered.mark(2);
    int b0 = buffered.read();
    int b1 = buffered.read();
    buffered.reset();
    return b0 == 0x1f && b1 == 0x8b ? new GzipCompressorInputStream(buffered, true) : buffered;
  }

  private static AgentException invalid(TarArchiveEntry e, String why) {
    return new AgentException(
        ErrorCode.PAYLOAD_INVALID, "rootfs tar entry '" + e.getName() + "' refused: " + why);
  }

  /** The entry name as a relative path ("" for the root); refuses absolute names and "..". */
  private static String relative(TarArchiveEntry e, String name, String what) {
    if (name.startsWith("/")) {
      throw invalid(e, what + " '" + name + "' is absolute");
    }
    StringBuilder sb = new StringBuilder();
    for (String c : name.split("/")) {
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        throw invalid(e, what + " '" + name + "' contains '..'");
      }
      sb.append(sb.length() == 0 ? "" : "/").append(c);
    }
    return sb.toString();
  }

  private void entry(TarArchiveInputStream tar, TarArchiveEntry e) throws IOException {
    entries++;
    String rel = relative(e, e.getName(), "name");
    if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
      throw invalid(e, "device nodes and FIFOs are not allowed in a rootfs payload");
    }
    charge(e);
    if (rel.isEmpty()) {
      if (!e.isDirectory()) {
        throw invalid(e, "the root must be a directory");
      }
      dirs.add(new Deferred(root, e));
      return;
    }
    Path target = root.resolve(rel);
    ensureParents(e, rel);
    BasicFileAttributes existing = attrs(target);
    if (e.isDirectory()) {
      if (existing != null && !existing.isDirectory()) {
        Files.delete(target);
        files.remove(rel);
        existing = null;
      }
      if (existing == null) {
        Files.createDirectory(target);
      }
      dirs.add(new Deferred(target, e));
      return;
    }
    if (existing != null) {
      if (existing.isDirectory()) {
        throw invalid(e, "it would replace the directory '" + rel + "'");
      }
      Files.delete(target); // removes a symlink itself, never its target
      files.remove(rel);
    }
    if (e.isSymbolicLink()) {
      symlink(e, rel, target);
    } else if (e.isLink()) {
      String to = relative(e, e.getLinkName(), "hard link target");
      if (!files.contains(to)) {
        throw invalid(e, "hard link to '" + e.getLinkName() + "', which was not extracted before");
      }
      Files.createLink(target, root.resolve(to));
    } else if (e.isFile()) {
      if (!tar.canReadEntryData(e)) {
        throw invalid(e, "unsupported file encoding (sparse?)");
      }
      try {
        bytes += writeData(tar, e, target);
      } catch (FileAlreadyExistsException ex) {
        throw invalid(e, "'" + rel + "' appeared while extracting");
      }
      files.add(rel);
      applyMeta(target, e);
    } else {
      throw invalid(e, "unsupported entry type '" + (char) e.getLinkFlag() + "'");
    }
  }

  /** The bytes a regular-file entry expands to: its real size, whatever the tar stores. */
  private static long dataSize(TarArchiveEntry e) {
    if (!e.isFile() || e.isLink() || e.isSymbolicLink()) {
      return 0;
    }
    return Math.max(e.getSize(), e.isSparse() ? e.getRealSize() : 0);
  }

  /**
   * Charges the entry's metadata and real data size against the bound, before anything of it is
   * created.
   */
  private void charge(TarArchiveEntry e) {
    long data = dataSize(e);
    long cost = data > maxBytes ? data : data + ENTRY_OVERHEAD;
    if (data < 0 || cost > maxBytes - charged) {
      throw new AgentException(
          ErrorCode.PAYLOAD_TOO_LARGE,
          "rootfs tar entry '"
              + e.getName()
              + "' ("
              + data
              + " bytes"
              + (e.isSparse() ? " as a sparse file, " + e.getSize() + " stored in the tar" : "")
              + ") takes the extracted size past the bound of "
              + maxBytes
              + " bytes (the slot size; file data plus "
              + ENTRY_OVERHEAD
              + " bytes per entry, "
              + charged
              + " used by the entries before it)");
    }
    charged += cost;
  }

  /**
   * Writes the entry's data to the new file {@code target}: at most its declared real size, and
   * all-zero blocks of a sparse entry as holes.
   *
   * @return bytes of file content (including holes)
   */
  private static long writeData(TarArchiveInputStream tar, TarArchiveEntry e, Path target)
      throws IOException {
    long declared = dataSize(e);
    boolean sparse = e.isSparse();
    byte[] buf = new byte[CHUNK];
    long pos = 0;
    try (FileChannel out =
        FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (int n = tar.readNBytes(buf, 0, CHUNK); n > 0; n = tar.readNBytes(buf, 0, CHUNK)) {
        if (n > declared - pos) {
          throw invalid(e, "it holds more than the " + declared + " bytes its header declares");
        }
        if (sparse && allZero(buf, n)) {
          out.position(pos + n);
        } else {
          ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
          while (b.hasRemaining()) {
            out.write(b);
          }
        }
        pos += n;
      }
      if (out.size() < pos) { // ends in a hole
        out.write(ByteBuffer.allocate(1), pos - 1);
      }
    }
    return pos;
  }

  private static boolean allZero(byte[] b, int n) {
    for (int i = 0; i < n; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private void symlink(TarArchiveEntry e, String rel, Path target) throws IOException {
    String link = e.getLinkName();
    if (link == null || link.isEmpty()) {
      throw invalid(e, "symlink without a target");
    }
    if (!link.startsWith("/")) {
      // resolve lexically from the link's directory; it must stay inside the root
      Deque<String> stack = new ArrayDeque<>();
      String[] parts = rel.split("/");
      for (int i = 0; i < parts.length - 1; i++) {
        stack.addLast(parts[i]);
      }
      for (String c : link.split("/")) {
        if (c.isEmpty() || c.equals(".")) {
          continue;
        }
        if (c.equals("..")) {
          if (stack.isEmpty()) {
            throw invalid(e, "symlink target '" + link + "' points outside the root");
          }
          stack.removeLast();
        } else {
          stack.addLast(c);
        }
      }
    }
    Files.createSymbolicLink(target, Path.of(link));
    if (chown) {
      Files.setAttribute(target, "unix:uid", (int) e.getLongUserId(), NOFOLLOW);
      Files.setAttribute(target, "unix:gid", (int) e.getLongGroupId(), NOFOLLOW);
    }
    try {
      Files.getFileAttributeView(target, BasicFileAttributeView.class, NOFOLLOW)
          .setTimes(FileTime.from(e.getLastModifiedDate().toInstant()), null, null);
    } catch (IOException | UnsupportedOperationException ignored) {
      // symlink times are cosmetic
    }
  }

  /** Creates missing parent directories; refuses parents that are symlinks or not directories. */
  private void ensureParents(TarArchiveEntry e, String rel) throws IOException {
    Path p = root;
    String[] parts = rel.split("/");
    for (int i = 0; i < parts.length - 1; i++) {
      p = p.resolve(parts[i]);
      BasicFileAttributes a = attrs(p);
      if (a == null) {
        Files.createDirectory(p);
      } else if (a.isSymbolicLink() || !a.isDirectory()) {
        throw invalid(
            e,
            "its parent '"
                + root.relativize(p)
                + "' is "
                + (a.isSymbolicLink() ? "a symlink" : "not a directory"));
      }
    }
  }

  private static BasicFileAttributes attrs(Path p) throws IOException {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, NOFOLLOW);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private void applyMeta(Path p, TarArchiveEntry e) throws IOException {
    if (chown) {
      Files.setAttribute(p, "unix:uid", (int) e.getLongUserId(), NOFOLLOW);
      Files.setAttribute(p, "unix:gid", (int) e.getLongGroupId(), NOFOLLOW);
    }
    // after chown, which clears setuid/setgid
    Files.setAttribute(p, "unix:mode", e.getMode() & 07777, NOFOLLOW);
    Files.getFileAttributeView(p, BasicFileAttributeView.class, NOFOLLOW)
        .setTimes(FileTime.from(e.getLastModifiedDate().toInstant()), null, null);
  }

  /** Directory modes and mtimes last, deepest first, so children could be written. */
  private void finishDirectories() throws IOException {
    for (int i = dirs.size() - 1; i >= 0; i--) {
      applyMeta(dirs.get(i).dir(), dirs.get(i).meta());
    }
  }
}
