package dev.kubeos.agent.payload;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.source.PayloadSource;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.OptionalLong;

/** A payload in a local file; resumable at any offset. */
public final class FilePayloadSource implements PayloadSource {
  private final Path file;

  public FilePayloadSource(Path file) {
    this.file = file;
  }

  @Override
  public String describe() {
    return file.toUri().toString();
  }

  @Override
  public Opened open(long offset) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED,
          "payload file " + file + " does not exist or is not a regular file");
    }
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED, "payload file " + file + " does not exist", e);
    }
    long size = ch.size();
    if (offset < 0 || offset > size) {
      ch.close();
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED,
          "cannot resume " + file + " at byte " + offset + ": the file has " + size + " bytes");
    }
    ch.position(offset);
    return new Opened(Channels.newInputStream(ch), OptionalLong.of(size));
  }

  @Override
  public boolean supportsResume() {
    return true;
  }
}
