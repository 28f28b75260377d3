package dev.kubeos.agent.stage;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
 * entry); no symlink is followed while creating entries; the total file size is bounded
 * (PAYLOAD_TOO_LARGE). Modes (incl. setuid/setgid/sticky), mtimes and, when running as root, owners
 * are preserved.
 */
public final class SafeTarExtractor {
  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

  /** What was extracted: entry count and regular-file bytes. */
  public record Summary(long entries, long bytes) {}

  private record Deferred(Path dir, TarArchiveEntry meta) {}

  private final Path root;
  private final long maxBytes;
  private final boolean chown;
  private final Set<String> files = new HashSet<>();
  private final List<Deferred> dirs = new ArrayList<>();
  private long bytes;
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
    TarArchiveInputStream tar = new TarArchiveInputStream(tarStream, "UTF-8");
    for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
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
      if (e.getSize() > maxBytes - bytes) {
        throw new AgentException(
            ErrorCode.PAYLOAD_TOO_LARGE,
            "rootfs tar entry '"
                + e.getName()
                + "' ("
                + e.getSize()
                + " bytes) takes the extracted size past the slot size of "
                + maxBytes
                + " bytes");
      }
      try (OutputStream out =
          Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        bytes += tar.transferTo(out);
      } catch (FileAlreadyExistsException ex) {
        throw invalid(e, "'" + rel + "' appeared while extracting");
      }
      files.add(rel);
      applyMeta(target, e);
    } else {
      throw invalid(e, "unsupported entry type '" + (char) e.getLinkFlag() + "'");
    }
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
