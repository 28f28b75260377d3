package dev.kubeos.cli.demo;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One disk booted by real OVMF + GRUB under QEMU (TCG, no network). Each {@link #boot} runs until
 * the guest powers off or reboots ({@code -no-reboot}); the UEFI variables persist across boots
 * like a machine's NVRAM. An optional second disk (read-only) carries the job for the boot (see
 * {@link GuestJobs}). The serial console goes to {@code boot-N.log} in the log dir and is read
 * while the guest runs: every line is handed to a {@link ConsoleListener} with the time since QEMU
 * was started, so callers can show progress and time milestones.
 */
public final class QemuGuest {
  public static final String QEMU = "qemu-system-x86_64";
  public static final Path OVMF_CODE = Path.of("/usr/share/OVMF/OVMF_CODE_4M.fd");
  public static final Path OVMF_VARS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd");

  /**
   * The emulated CPU model ({@code -cpu}); the system property {@code kubeos.qemu.cpu} overrides
   * it. See docs/benchmarks.md, "Guest JIT and in-guest stage (issue 14)", for why this model.
   */
  public static final String CPU = "qemu64";

  /** {@link #CPU}, or the system property {@code kubeos.qemu.cpu} when set. */
  public static String cpu() {
    String p = System.getProperty("kubeos.qemu.cpu");
    return p == null || p.isBlank() ? CPU : p.strip();
  }

  /** Terminal control sequences: CSI, charset selection, single-character ones like ESC M. */
  private static final Pattern ANSI =
      Pattern.compile("\u001B(\\[[0-9;?]*[ -/]*[@-~]|[()][A-Z0-9]|[@-Z\\\\-_])");

  /** Receives console lines as they appear. */
  @FunctionalInterface
  public interface ConsoleListener {
    void line(Duration sinceStart, String line);
  }

  /** A console line and when the host saw it (since QEMU was started). */
  public record TimedLine(Duration at, String text) {}

  /**
   * One boot.
   *
   * @param number 1 for the first boot of this guest
   * @param log the serial console log file
   * @param lines the console lines (ANSI sequences and carriage returns removed) with their times
   * @param wall QEMU start to QEMU exit
   */
  public record Boot(int number, Path log, List<TimedLine> lines, Duration wall) {
    /** The whole console as text. */
    public String console() {
      StringBuilder b = new StringBuilder();
      for (TimedLine l : lines) {
        b.append(l.text()).append('\n');
      }
      return b.toString();
    }

    /** The value after {@code PROBE-<key> } on the console, or null. */
    public String probe(String key) {
      return QemuGuest.probe(console(), key);
    }

    /**
     * Fails when a JVM in the guest crashed during this boot: the probe prints {@code
     * PROBE-JVM-CRASH <hs_err file> (exit N, flags: ...)} and the head of the hs_err report.
     *
     * @throws IllegalStateException naming the crash and this boot's console log
     */
    public void requireNoJvmCrash() {
      String crash = probe("JVM-CRASH");
      if (crash != null) {
        throw new IllegalStateException(
            "a JVM in the guest crashed during boot "
                + number
                + ": "
                + crash
                + "; the hs_err report follows that line in the console log "
                + log);
      }
    }

    /** When the first line matching {@code regex} appeared, or null. */
    public Duration firstAt(String regex) {
      Pattern p = Pattern.compile(regex);
      for (TimedLine l : lines) {
        if (p.matcher(l.text()).find()) {
          return l.at();
        }
      }
      return null;
    }
  }

  private final Path disk;
  private final Path vars;
  private final Path logDir;
  private int boots;
  private List<String> network = List.of("-nic", "none");
  private String tcgThread = "single";
  private int memoryMib = 1024;

  /**
   * Replaces the default {@code -nic none} with these QEMU arguments (e.g. a restricted user-mode
   * NIC with guestfwd rules) for every later boot.
   */
  public QemuGuest network(List<String> qemuArgs) {
    this.network = List.copyOf(qemuArgs);
    return this;
  }

  /**
   * Whether all vCPUs share one host thread ({@code -accel tcg,thread=single}, the default) or get
   * one each ({@code thread=multi}), for every later boot. Under multi-threaded TCG the guest's
   * JVMs, which patch their compiled code while other threads run it, died with SIGSEGV in
   * C1-compiled code and once hung silently, and a CI run's NodeImageE2E stage failed there
   * unexplained; with one host thread the vCPUs never run at the same instant, so no vCPU half-sees
   * another's patch (docs/benchmarks.md, "Whole system in QEMU (issue 12)"). The system property
   * {@code kubeos.qemu.tcg-thread} ({@code single} or {@code multi}) overrides both.
   */
  public QemuGuest singleThreadTcg(boolean single) {
    this.tcgThread = single ? "single" : "multi";
    return this;
  }

  private String tcgThread() {
    String p = System.getProperty("kubeos.qemu.tcg-thread");
    if (p == null || p.isBlank()) {
      return tcgThread;
    }
    if (!p.strip().equals("single") && !p.strip().equals("multi")) {
      throw new IllegalArgumentException(
          "kubeos.qemu.tcg-thread must be single or multi, not '" + p + "'");
    }
    return p.strip();
  }

  /** Guest memory for every later boot (default 1024 MiB). */
  public QemuGuest memoryMib(int mib) {
    this.memoryMib = mib;
    return this;
  }

  /**
   * A guest for {@code disk}; its UEFI variables are a fresh copy of OVMF's template in {@code
   * workDir}, its console logs go to {@code logDir}.
   */
  public QemuGuest(Path disk, Path workDir, Path logDir) throws IOException {
    this.disk = disk;
    this.logDir = Files.createDirectories(logDir);
    this.vars = Files.createDirectories(workDir).resolve("vars.fd");
    Files.copy(OVMF_VARS, vars, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * What is missing on this host to boot a guest (QEMU, OVMF), as {@code apt-get install} package
   * names; empty when nothing is.
   */
  public static List<String> missingPackages() {
    List<String> missing = new ArrayList<>();
    if (Host.which(QEMU) == null) {
      missing.add("qemu-system-x86");
    }
    if (!Files.isRegularFile(OVMF_CODE) || !Files.isRegularFile(OVMF_VARS)) {
      missing.add("ovmf");
    }
    return missing;
  }

  /**
   * Boots once with {@code jobDisk} (or none) attached and waits until QEMU exits.
   *
   * @throws BootTimeoutException when the guest is still running after {@code timeout}; QEMU is
   *     killed and the message names the console log
   */
  public Boot boot(Path jobDisk, Duration timeout, ConsoleListener listener)
      throws IOException, InterruptedException {
    int number = ++boots;
    Path log = logDir.resolve("boot-" + number + ".log");
    Files.deleteIfExists(log);
    List<String> argv =
        new ArrayList<>(
            List.of(
                QEMU,
                "-machine",
                "q35",
                "-cpu",
                cpu(),
                "-accel",
                "tcg,thread=" + tcgThread(),
                "-smp",
                "2",
                "-m",
                Integer.toString(memoryMib),
                "-nographic",
                "-monitor",
                "none",
                "-serial",
                "stdio",
                "-no-reboot",
                "-drive",
                "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                "-drive",
                "if=pflash,format=raw,unit=1,file=" + vars,
                "-drive",
                "file=" + disk + ",format=raw,if=virtio"));
    argv.addAll(network);
    if (jobDisk != null) {
      argv.addAll(List.of("-drive", "file=" + jobDisk + ",format=raw,if=virtio,readonly=on"));
    }
    long start = System.nanoTime();
    Process p =
        new ProcessBuilder(argv)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    List<TimedLine> lines = new ArrayList<>();
    try (InputStream in = Files.newInputStream(log)) {
      StringBuilder partial = new StringBuilder();
      long deadline = start + timeout.toNanos();
      boolean exited = false;
      while (true) {
        exited = p.waitFor(250, TimeUnit.MILLISECONDS);
        Duration now = Duration.ofNanos(System.nanoTime() - start);
        byte[] chunk = in.readAllBytes();
        partial.append(new String(chunk, StandardCharsets.UTF_8));
        int nl;
        while ((nl = partial.indexOf("\n")) >= 0) {
          emit(lines, listener, now, partial.substring(0, nl));
          partial.delete(0, nl + 1);
        }
        if (exited) {
          if (partial.length() > 0) {
            emit(lines, listener, now, partial.toString());
          }
          break;
        }
        if (System.nanoTime() > deadline) {
          p.destroyForcibly().waitFor();
          throw new BootTimeoutException(
              "boot "
                  + number
                  + " of "
                  + disk
                  + " did not finish within "
                  + timeout.toSeconds()
                  + " s (QEMU killed). Console log: "
                  + log
                  + " ; the machine may just be slow (TCG, shared cores): raise the timeout,"
                  + " or read the log's last lines for where the guest stopped");
        }
      }
    } finally {
      if (p.isAlive()) { // interrupted (the caller stops the guest) or failed: never leave QEMU
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    return new Boot(number, log, List.copyOf(lines), Duration.ofNanos(System.nanoTime() - start));
  }

  private static void emit(
      List<TimedLine> lines, ConsoleListener listener, Duration at, String raw) {
    String text = ANSI.matcher(raw.replace("\r", "")).replaceAll("");
    lines.add(new TimedLine(at, text));
    if (listener != null) {
      listener.line(at, text);
    }
  }

  /** The value after {@code PROBE-<key> } on {@code console}, or null. */
  public static String probe(String console, String key) {
    Matcher m = Pattern.compile("PROBE-" + Pattern.quote(key) + " ([^\\n]*)").matcher(console);
    return m.find() ? m.group(1).strip() : null;
  }

  /** Thrown when a boot does not end within its timeout. */
  public static final class BootTimeoutException extends IOException {
    private static final long serialVersionUID = 1L;

    BootTimeoutException(String message) {
      super(message);
    }
  }
}
