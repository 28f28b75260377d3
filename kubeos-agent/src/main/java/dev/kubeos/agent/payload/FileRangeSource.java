package dev.kubeos.agent.payload;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.source.RangeSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Byte ranges of a local file.
 *
 * @param file the file
 */
public record FileRangeSource(Path file) implements RangeSource {

  @Override
  public String describe() {
    return file.toUri().toString();
  }

  @Override
  public long size() throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED, "image file " + file + " does not exist or is not a file");
    }
    return Files.size(file);
  }

  @Override
  public InputStream read(long offset, long length) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    ch.position(offset);
    InputStream in = Channels.newInputStream(ch);
    return new InputStream() {
      long left = length;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (left <= 0) {
          return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, left));
        if (n > 0) {
          left -= n;
        }
        return n;
      }

      @Override
      public void close() throws IOException {
        in.close();
      }
    };
  }
}
