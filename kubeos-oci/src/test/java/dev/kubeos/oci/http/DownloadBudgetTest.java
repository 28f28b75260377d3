package dev.kubeos.oci.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.Action;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.source.DownloadLimits;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The limits against a hand-driven clock: each read advances it by a chosen step. */
class DownloadBudgetTest {
  private static final long SECOND = 1_000_000_000L;
  private final AtomicLong now = new AtomicLong(1000 * SECOND);
  private final DownloadLimits limits =
      new DownloadLimits(Duration.ofSeconds(100), 1000, Duration.ofSeconds(10));

  private InputStream body(DownloadBudget budget, int size) {
    return budget.guard(new ByteArrayInputStream(new byte[size]));
  }

  @Test
  void aFastEnoughDownloadPassesEveryWindow() throws Exception {
    DownloadBudget budget = new DownloadBudget(limits, "fast", now::get);
    budget.request();
    InputStream in = body(budget, 100_000);
    byte[] buf = new byte[2000];
    int total = 0;
    for (int n; (n = in.read(buf)) > 0; ) {
      total += n;
      now.addAndGet(SECOND); // 2000 bytes a second, twice the minimum
    }
    assertThat(total).isEqualTo(100_000);
  }

  @Test
  void aDripUnderTheMinimumRateIsCutOffAfterOneWindowAsRetryable() throws Exception {
    DownloadBudget budget = new DownloadBudget(limits, "http://h/p", now::get);
    budget.request();
    InputStream in = body(budget, 100_000);
    byte[] one = new byte[1];
    long read = 0;
    try {
      while (true) {
        in.read(one);
        read++;
        now.addAndGet(SECOND / 2); // 2 bytes a second
      }
    } catch (AgentException e) {
      assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_TOO_SLOW);
      assertThat(e.code().action()).isEqualTo(Action.RETRY);
      assertThat(e.getMessage()).contains("http://h/p", "minimum rate of 1000 bytes/s");
    }
    // judged at the end of the first 10 s window, not before
    assertThat(read).isEqualTo(20);
  }

  @Test
  void theDeadlineCountsAcrossResumesAndFailsTheNextRequest() throws Exception {
    DownloadBudget budget = new DownloadBudget(limits, "blob", now::get);
    budget.request();
    InputStream first = body(budget, 10);
    first.readAllBytes();
    now.addAndGet(101 * SECOND);
    assertThatThrownBy(budget::request)
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_TOO_SLOW);
              assertThat(e.getMessage()).contains("overall deadline of 100.0 s");
            });
  }

  @Test
  void limitsRejectNonsense() {
    assertThatThrownBy(() -> new DownloadLimits(Duration.ZERO, 1, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new DownloadLimits(Duration.ofSeconds(1), -1, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(DownloadLimits.DEFAULTS.minBytesPerSecond()).isEqualTo(64 << 10);
    assertThat(DownloadLimits.DEFAULTS.rateWindow()).isEqualTo(Duration.ofSeconds(60));
    assertThat(DownloadLimits.DEFAULTS.deadline()).isEqualTo(Duration.ofHours(2));
  }
}
