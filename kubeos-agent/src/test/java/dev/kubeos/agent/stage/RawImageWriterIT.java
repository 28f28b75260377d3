package dev.kubeos.agent.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.disk.FileBlockDevice;
import dev.kubeos.agent.payload.PayloadSources;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.oci.source.PayloadSource;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.TestPki;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class RawImageWriterIT {
  private static final int MIB = 1 << 20;
  private static final long SLOT_OFFSET = MIB;
  private static final long SLOT_SIZE = 12L * MIB;
  private static final byte FILL = (byte) 0xA5;
  private static final FetchOptions INSECURE = FetchOptions.defaults().withInsecure(true);

  @TempDir Path tmp;
  private Path disk;
  private CountingDevice device;
  private BlockDevice slot;
  private PayloadServer server;
  private final RawImageWriter writer =
      new RawImageWriter(new RawImageWriter.Tuning(MIB, 8, 4L * MIB, 5, Duration.ofMillis(10)));

  @BeforeEach
  void setUp() throws IOException {
    disk = tmp.resolve("disk.img");
    byte[] fill = new byte[(int) (SLOT_OFFSET + SLOT_SIZE + MIB)];
    Arrays.fill(fill, FILL);
    Files.write(disk, fill);
    device = new CountingDevice(FileBlockDevice.open(disk, true));
    slot = device.slice(SLOT_OFFSET, SLOT_SIZE);
    server = PayloadServer.http();
  }

  @AfterEach
  void tearDown() throws IOException {
    server.close();
    device.close();
  }

  private static byte[] payload(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static Sha256 sha(byte[] b) throws Exception {
    return Sha256.of(MessageDigest.getInstance("SHA-256").digest(b));
  }

  /** The slot holds the payload, the rest of the slot and of the disk is untouched. */
  private void assertStaged(byte[] payload) throws IOException {
    byte[] all = Files.readAllBytes(disk);
    int off = (int) SLOT_OFFSET;
    assertThat(Arrays.copyOfRange(all, off, off + payload.length)).isEqualTo(payload);
    assertFilled(all, 0, off);
    assertFilled(all, off + payload.length, all.length);
  }

  private static void assertFilled(byte[] all, int from, int to) {
    byte[] fill = new byte[to - from];
    Arrays.fill(fill, FILL);
    assertThat(Arrays.mismatch(Arrays.copyOfRange(all, from, to), fill))
        .as("first modified byte in [%d, %d)", from, to)
        .isEqualTo(-1);
  }

  private void assertSlotUntouched() throws IOException {
    assertThat(device.bytesWritten.get()).isZero();
    byte[] all = Files.readAllBytes(disk);
    assertFilled(all, 0, all.length);
  }

  @Test
  void stagesOverHttpWithSyncsAndReadBack() throws Exception {
    byte[] p = payload(10 * MIB + 12345, 1);
    server.serve("/img", p);
    List<long[]> calls = new ArrayList<>();
    StageResult r =
        writer.write(
            PayloadSources.open(server.url("/img"), INSECURE),
            sha(p),
            slot,
            (done, total) -> calls.add(new long[] {done, total}));
    assertThat(r.bytes()).isEqualTo(p.length);
    assertThat(r.actual()).isEqualTo(sha(p));
    assertThat(r.resumes()).isZero();
    assertThat(r.readBackUncached()).isEqualTo(device.uncachedReadsBypassCache());
    assertThat(device.syncs.get()).isGreaterThanOrEqualTo(3); // every 4 MiB + the tail
    assertThat(calls).isNotEmpty();
    assertThat(calls.get(calls.size() - 1)).containsExactly(p.length, p.length);
    assertStaged(p);
    assertThat(server.requests("/img")).hasSize(1);
  }

  @Test
  void stagesFromFileUrl() throws Exception {
    byte[] p = payload(3 * MIB + 7, 2);
    Path f = tmp.resolve("payload.img");
    Files.write(f, p);
    StageResult r =
        writer.write(
            PayloadSources.open(f.toUri(), FetchOptions.defaults()), sha(p), slot, (a, b) -> {});
    assertThat(r.bytes()).isEqualTo(p.length);
    assertStaged(p);
  }

  @ParameterizedTest
  @EnumSource(TestPki.KeyFormat.class)
  void stagesOverHttpsWithCustomCaAndClientCertificate(TestPki.KeyFormat format) throws Exception {
    TestPki pki = TestPki.create(tmp.resolve("pki"), format);
    byte[] p = payload(2 * MIB + 5, 3);
    try (PayloadServer tls = PayloadServer.https(pki, true)) {
      tls.serve("/img", p);
      FetchOptions opts =
          FetchOptions.defaults()
              .withCaCert(pki.caCertPem())
              .withClientCert(pki.clientCertPem(), pki.clientKeyPem());
      StageResult r =
          writer.write(PayloadSources.open(tls.url("/img"), opts), sha(p), slot, (a, b) -> {});
      assertThat(r.bytes()).isEqualTo(p.length);
      assertStaged(p);
    }
  }

  @Test
  void httpsWithoutClientCertificateOrTrustFails() throws Exception {
    TestPki pki = TestPki.create(tmp.resolve("pki"), TestPki.KeyFormat.EC);
    try (PayloadServer tls = PayloadServer.https(pki, true)) {
      tls.serve("/img", payload(1000, 4));
      URI url = tls.url("/img");
      FetchOptions noClient = FetchOptions.defaults().withCaCert(pki.caCertPem());
      assertThatThrownBy(() -> PayloadSources.open(url, noClient).open(0))
          .isInstanceOfSatisfying(
              AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_FAILED));
      FetchOptions noTrust = FetchOptions.defaults();
      assertThatThrownBy(() -> PayloadSources.open(url, noTrust).open(0))
          .isInstanceOfSatisfying(
              AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_FAILED));
    }
  }

  @Test
  void wrongDigestIsChecksumMismatch() throws Exception {
    byte[] p = payload(2 * MIB, 5);
    server.serve("/img", p);
    Sha256 wrong = sha(new byte[] {1});
    Sha256 right = sha(p);
    assertThatThrownBy(
            () ->
                writer.write(
                    PayloadSources.open(server.url("/img"), INSECURE), wrong, slot, (a, b) -> {}))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH);
              assertThat(e.getMessage()).contains(wrong.toString()).contains(right.toString());
            });
  }

  @ParameterizedTest
  @ValueSource(ints = {404, 500})
  void httpErrorStatusIsDownloadFailed(int status) throws Exception {
    server.serve("/img", payload(1000, 6)).failWith("/img", status);
    assertThatThrownBy(
            () ->
                writer.write(
                    PayloadSources.open(server.url("/img"), INSECURE),
                    sha(new byte[0]),
                    slot,
                    (a, b) -> {}))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_FAILED);
              assertThat(e.getMessage()).contains("answered " + status).contains("/img");
            });
    assertSlotUntouched();
  }

  @Test
  void brokenConnectionResumesWithRange() throws Exception {
    byte[] p = payload(6 * MIB + 99, 7);
    server.serve("/img", p).cutAfter("/img", 3_000_001, false);
    StageResult r =
        writer.write(PayloadSources.open(server.url("/img"), INSECURE), sha(p), slot, (a, b) -> {});
    assertThat(r.resumes()).isEqualTo(1);
    // the cut may reset the connection: bytes still in flight are lost, so the resume starts at
    // or before the cut, never after it
    List<String> ranges =
        server.requests("/img").stream().map(PayloadServer.Request::range).toList();
    assertThat(ranges).hasSize(2);
    assertThat(ranges.get(0)).isNull();
    assertThat(ranges.get(1)).matches("bytes=\\d+-");
    long resumedAt = Long.parseLong(ranges.get(1).replaceAll("\\D", ""));
    assertThat(resumedAt).isPositive().isLessThanOrEqualTo(3_000_001);
    assertStaged(p);
  }

  @Test
  void brokenConnectionWithoutRangeSupportFails() throws Exception {
    byte[] p = payload(6 * MIB, 8);
    server.serve("/img", p).ignoreRanges("/img").cutAfter("/img", 2_500_000, false);
    assertThatThrownBy(
            () ->
                writer.write(
                    PayloadSources.open(server.url("/img"), INSECURE), sha(p), slot, (a, b) -> {}))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_FAILED);
              java.util.regex.Matcher m =
                  java.util.regex.Pattern.compile("(\\d+) of " + p.length + " bytes")
                      .matcher(e.getMessage());
              assertThat(m.find()).as(e.getMessage()).isTrue();
              assertThat(Long.parseLong(m.group(1))).isPositive().isLessThanOrEqualTo(2_500_000);
            });
    assertThat(server.requests("/img")).hasSize(1);
  }

  @Test
  void payloadLargerThanSlotIsRefusedBeforeWriting() throws Exception {
    byte[] p = payload((int) SLOT_SIZE + 1, 9);
    server.serve("/img", p);
    assertThatThrownBy(
            () ->
                writer.write(
                    PayloadSources.open(server.url("/img"), INSECURE), sha(p), slot, (a, b) -> {}))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE));
    assertSlotUntouched();
  }

  @Test
  void payloadOfUnknownLengthStopsAtTheSlotEnd() throws Exception {
    byte[] p = payload((int) SLOT_SIZE + 10, 10);
    PayloadSource unknownLength =
        new PayloadSource() {
          @Override
          public String describe() {
            return "stream";
          }

          @Override
          public Opened open(long offset) {
            return new Opened(new ByteArrayInputStream(p), OptionalLong.empty());
          }

          @Override
          public boolean supportsResume() {
            return false;
          }
        };
    assertThatThrownBy(() -> writer.write(unknownLength, sha(p), slot, (a, b) -> {}))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE));
    assertThat(device.bytesWritten.get()).isLessThanOrEqualTo(SLOT_SIZE);
    byte[] all = Files.readAllBytes(disk);
    assertFilled(all, (int) (SLOT_OFFSET + SLOT_SIZE), all.length);
  }

  @Test
  void readBackMismatchIsVerifyFailed() throws Exception {
    byte[] p = payload(5 * MIB, 11);
    server.serve("/img", p);
    BlockDevice lying = new CorruptingReadBack(slot, 3L * MIB + 17);
    assertThatThrownBy(
            () ->
                writer.write(
                    PayloadSources.open(server.url("/img"), INSECURE), sha(p), lying, (a, b) -> {}))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.VERIFY_FAILED);
              assertThat(e.getMessage()).contains("offset " + (3L * MIB + 17));
            });
  }

  @Test
  void plainHttpIsRefusedWithoutInsecure() {
    assertThatThrownBy(() -> PayloadSources.open(server.url("/img"), FetchOptions.defaults()))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
              assertThat(e.getMessage()).contains("--insecure").contains("use https");
            });
    assertThat(server.requests()).isEmpty();
  }
}
