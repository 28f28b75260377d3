package dev.kubeos.api.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.FileSystemException;
import org.junit.jupiter.api.Test;

class IoFailureTest {
  @Test
  void enospcIsNoSpaceNamingTheDiskAndIsNotRetryable() {
    AgentException e =
        IoFailure.of("stage 1.2 failed", "/persist", new IOException("No space left on device"));
    assertThat(e.code()).isEqualTo(ErrorCode.NO_SPACE);
    assertThat(e.code().action()).isEqualTo(Action.GIVE_UP);
    assertThat(e.getMessage()).contains("no space left on /persist").startsWith("stage 1.2 failed");
  }

  @Test
  void aFileSystemExceptionNamesItsFileAndACauseChainIsSearched() {
    IOException wrapped =
        new IOException(
            "copy failed",
            new FileSystemException("/persist/cache/blob", null, "No space left on device"));
    AgentException e = IoFailure.of("caching", "the blob cache's file system", wrapped);
    assertThat(e.code()).isEqualTo(ErrorCode.NO_SPACE);

    AgentException direct =
        IoFailure.of(
            "caching",
            "/persist",
            new FileSystemException("/persist/x", null, "Disk quota exceeded"));
    assertThat(direct.getMessage()).contains("(/persist/x: Disk quota exceeded)");
  }

  @Test
  void otherFailuresStayRetryableIoErrors() {
    AgentException e = IoFailure.of("reading", "/dev/vda", new IOException("Input/output error"));
    assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR);
    assertThat(e.code().action()).isEqualTo(Action.RETRY);
    assertThat(e.getMessage()).isEqualTo("reading: Input/output error");
  }
}
