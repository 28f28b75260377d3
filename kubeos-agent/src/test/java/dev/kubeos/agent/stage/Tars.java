package dev.kubeos.agent.stage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/** Builds tar archives for tests. */
final class Tars {
  static final Instant MTIME = Instant.parse("2024-05-06T07:08:09Z");

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final TarArchiveOutputStream tar;

  Tars() {
    tar = new TarArchiveOutputStream(bytes, "UTF-8");
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
  }

  private Tars add(TarArchiveEntry e, byte[] data) {
    try {
      e.setModTime(Date.from(MTIME));
      e.setUserId(0);
      e.setGroupId(0);
      if (data != null) {
        e.setSize(data.length);
      }
      tar.putArchiveEntry(e);
      if (data != null) {
        tar.write(data);
      }
      tar.closeArchiveEntry();
      return this;
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
  }

  Tars dir(String name, int mode) {
    TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/", true);
    e.setMode(mode | 040000);
    return add(e, null);
  }

  Tars file(String name, String content, int mode) {
    TarArchiveEntry e = new TarArchiveEntry(name, true);
    e.setMode(mode | 0100000);
    return add(e, content.getBytes(StandardCharsets.UTF_8));
  }

  Tars file(String name, byte[] content, int mode) {
    TarArchiveEntry e = new TarArchiveEntry(name, true);
    e.setMode(mode | 0100000);
    return add(e, content);
  }

  Tars file(String name, byte[] content) {
    TarArchiveEntry e = new TarArchiveEntry(name, true);
    e.setMode(0100644);
    return add(e, content);
  }

  Tars symlink(String name, String target) {
    TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK, true);
    e.setLinkName(target);
    e.setMode(0120777);
    return add(e, null);
  }

  Tars hardlink(String name, String target) {
    TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK, true);
    e.setLinkName(target);
    e.setMode(0100644);
    return add(e, null);
  }

  Tars special(String name, byte type) {
    TarArchiveEntry e = new TarArchiveEntry(name, type, true);
    e.setMode(0644);
    return add(e, null);
  }

  byte[] toBytes() throws IOException {
    tar.close();
    return bytes.toByteArray();
  }

  byte[] toGzip() throws IOException {
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (OutputStream out = new GzipCompressorOutputStream(gz)) {
      out.write(toBytes());
    }
    return gz.toByteArray();
  }
}
