package dev.kubeos.agent.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.disk.FileBlockDevice;
import dev.kubeos.agent.payload.PayloadSources;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.ForwardingBlockDevice;
import dev.kubeos.api.agent.Action;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.PayloadServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A slot whose writes fail with ENOSPC after some bytes: the stage ends with NO_SPACE (GIVE_UP, not
 * a retry that would fail the same way), naming the slot.
 */
class DiskFullIT {
  private static final int MIB = 1 << 20;

  @TempDir Path tmp;
  private BlockDevice device;
  private PayloadServer server;

  /** Writes fail as a full file system would once {@code limit} bytes of the slot are written. */
  private static final class FullAfter extends ForwardingBlockDevice {
    private final long limit;

    FullAfter(BlockDevice d, long limit) {
      super(d);
      this.limit = limit;
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
      if (offset + src.remaining() > limit) {
        throw new IOException("No space left on device");
      }
      super.write(offset, src);
    }

    @Override
    protected BlockDevice decorate(BlockDevice slice) {
      return slice;
    }

    @Override
    public void close() {}
  }

  @BeforeEach
  void setUp() throws IOException {
    Path disk = tmp.resolve("disk.img");
    Files.write(disk, new byte[8 * MIB]);
    device = FileBlockDevice.open(disk, true);
    server = PayloadServer.http();
  }

  @AfterEach
  void tearDown() throws IOException {
    server.close();
    device.close();
  }

  @Test
  void enospcWhileWritingTheSlotIsNoSpaceAndNotRetryable() throws Exception {
    byte[] p = new byte[4 * MIB];
    new Random(7).nextBytes(p);
    server.serve("/img", p);
    RawImageWriter writer =
        new RawImageWriter(new RawImageWriter.Tuning(MIB, 8, 4L * MIB, 5, Duration.ofMillis(10)));
    BlockDevice full = new FullAfter(device, 2L * MIB);

    assertThatThrownBy(
            () ->
                writer.write(
                    PayloadSources.open(
                        server.url("/img"), FetchOptions.defaults().withInsecure(true)),
                    Sha256.of(MessageDigest.getInstance("SHA-256").digest(p)),
                    full,
                    (a, b) -> {}))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.NO_SPACE);
              assertThat(e.code().action()).isEqualTo(Action.GIVE_UP);
              assertThat(e.getMessage()).contains("no space left on the target slot");
            });
  }
}
