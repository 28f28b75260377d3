package dev.kubeos.cli.demo;

import static dev.kubeos.cli.demo.GuestExpectations.require;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.agent.host.FreshDiskInit;
import dev.kubeos.image.Images;
import dev.kubeos.image.build.BuildResult;
import dev.kubeos.image.plan.BuildPlan;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The real demo: builds v1 and v2 with the image builder (Debian via debootstrap, v2 reuses v1's
 * cached rootfs), boots v1's disk under QEMU (OVMF + GRUB, TCG, no network), and upgrades it to v2
 * through the guest's own agent: the v2 payload and the job (stage, activate, reboot) reach the
 * guest on a read-only job disk ({@link GuestJobs}); GRUB boots the trial of ROOT-B, the guest's
 * health check commits it. Every step is printed with its time as it happens (build events, boot
 * milestones, a heartbeat line at least every 30 s), then a summary. Needs root, QEMU and OVMF.
 */
public final class QemuDemo {
  private static final Duration HEARTBEAT = Duration.ofSeconds(30);

  /**
   * What the demo needs.
   *
   * @param workDir where the images, job disks and console logs go (emptied first)
   * @param cacheDir the image builder's rootfs cache
   * @param repo the checkout (for scripts/build-agent-runtime.sh and the agent jar)
   * @param agentRuntime the jlink'd agent runtime for the images (built when missing or stale)
   * @param bootTimeout per QEMU boot
   */
  public record Options(
      Path workDir, Path cacheDir, Path repo, Path agentRuntime, Duration bootTimeout) {}

  /** The measured result: times per step in order, and the slots before and after. */
  public record Summary(
      Map<String, Duration> steps,
      String slotBefore,
      String versionBefore,
      String slotAfter,
      String versionAfter,
      String defaultAfter,
      boolean rootfsCachedForV1) {}

  private final Options opt;
  private final PrintStream out;
  private final long start = System.nanoTime();
  private final Map<String, Duration> steps = new LinkedHashMap<>();
  private volatile long lastPrint = System.nanoTime();
  private volatile Supplier<String> activity = () -> null;
  private final List<QemuGuest.Boot> boots = new java.util.ArrayList<>();
  private final List<BuildResult> builds = new java.util.ArrayList<>();
  private final Map<String, String> sizes = new LinkedHashMap<>();
  private QemuGuest guest;

  public QemuDemo(Options options, PrintStream out) {
    this.opt = options;
    this.out = out;
  }

  /**
   * Why this host cannot run the demo (not root, no QEMU/OVMF), or null when it can. Checked before
   * anything is written.
   */
  public static String preflight() {
    StringBuilder why = new StringBuilder();
    if (!Host.isRoot()) {
      why.append(
          "the QEMU demo builds Debian root file systems with debootstrap and chroot, which needs"
              + " root: run it as root (sudo ./kubeos demo). ");
    }
    List<String> missing = QemuGuest.missingPackages();
    if (!missing.isEmpty()) {
      why.append("missing host packages: ")
          .append(String.join(" ", missing))
          .append(" (apt-get install ")
          .append(String.join(" ", missing))
          .append(", or scripts/install-deps.sh). ");
    }
    if (why.length() == 0) {
      return null;
    }
    return why.append(
            "Without root or QEMU, './kubeos demo --quick' runs the file-backed demo (the real"
                + " agent on a disk image file, the reboot simulated).")
        .toString();
  }

  /**
   * The guest after {@link #run} (v2 committed on ROOT-B, powered off): the e2e goes on with it.
   */
  public QemuGuest guest() {
    return guest;
  }

  /** The boots {@link #run} made, in order. */
  public List<QemuGuest.Boot> boots() {
    return List.copyOf(boots);
  }

  /** The builds {@link #run} made: v1, v2. */
  public List<BuildResult> builds() {
    return List.copyOf(builds);
  }

  /** Runs the demo; returns the summary (also printed). */
  public Summary run() throws Exception {
    String why = preflight();
    if (why != null) {
      throw new IllegalStateException(why);
    }
    Path work = opt.workDir().toAbsolutePath();
    ScheduledExecutorService beat =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "demo-heartbeat");
              t.setDaemon(true);
              return t;
            });
    beat.scheduleAtFixedRate(this::heartbeat, 5, 5, TimeUnit.SECONDS);
    try {
      say(
          "KubeOS demo: build v1 and v2 with the image builder, boot v1 under QEMU (OVMF + GRUB,"
              + " TCG, no network), upgrade it to v2 through the guest's agent");
      say("  work dir " + work + ", rootfs cache " + opt.cacheDir());
      if (Files.exists(work)) {
        dev.kubeos.image.build.Trees.delete(work);
      }
      Files.createDirectories(work);

      step(
          "agent runtime",
          () -> {
            boolean built =
                DemoImages.ensureAgentRuntime(opt.repo(), opt.agentRuntime(), System.out);
            say("    " + (built ? "built " : "up to date: ") + opt.agentRuntime());
          });
      BuildResult[] v = new BuildResult[2];
      step("build v1", () -> v[0] = build("1.0.0", work));
      step("build v2", () -> v[1] = build("2.0.0", work));
      builds.addAll(List.of(v[0], v[1]));
      if (!v[1].rootfsFromCache()) {
        throw new IllegalStateException("v2 did not reuse v1's rootfs from the cache");
      }

      // Boot 1: v1 from ROOT-A; the job stages v2 into ROOT-B, arms the trial and reboots.
      Path[] jobDisk = new Path[1];
      step(
          "job disk (v2 payload + job.sh, mkfs.ext4 -d)",
          () ->
              jobDisk[0] =
                  GuestJobs.disk(
                      work.resolve("jobs"),
                      v[1].rootfsImage(),
                      List.of(
                          "echo 'PROBE-JOB start'",
                          "echo \"written under v1 at $(date -u +%FT%TZ)\" > /persist/kubeos-demo-marker",
                          GuestJobs.stage(v[1].rootfsImageSha256(), "2.0.0")
                              + " && kubeos agent activate && echo 'PROBE-ACTIVATED ok'",
                          "systemctl reboot; exit 0")));
      Path job = jobDisk[0];
      QemuGuest vm = guest = new QemuGuest(v[0].disk(), work.resolve("qemu"), work.resolve("logs"));
      long boot1Start = System.nanoTime();
      say("==> boot v1 under QEMU (console: " + work.resolve("logs/boot-1.log") + ")");
      QemuGuest.Boot b1 = boot(vm, job, "boot v1");
      Duration healthy1 = require(b1, b1.firstAt("PROBE-STATUS "), "the agent's status");
      JsonNode s1 = GuestExpectations.v1OnSlotA(b1);
      Duration jobStart = require(b1, b1.firstAt("PROBE-JOB start"), "the job's start");
      Duration staged = require(b1, b1.firstAt("PROBE-STAGED ok"), "PROBE-STAGED (stage failed?)");
      Duration activated =
          require(b1, b1.firstAt("PROBE-ACTIVATED ok"), "PROBE-ACTIVATED (activate failed?)");
      record("boot v1 (QEMU start to agent status)", healthy1);
      record("stage v2 (1 GiB raw, in the guest)", staged.minus(jobStart));
      record("activate (arm the boot-once trial)", activated.minus(staged));

      // Boot 2: GRUB boots the trial of ROOT-B; the health check commits it.
      long boot2Start = System.nanoTime();
      say("==> reboot into the v2 trial (console: " + work.resolve("logs/boot-2.log") + ")");
      QemuGuest.Boot b2 = boot(vm, null, "boot v2");
      Duration healthEnd = require(b2, b2.firstAt("PROBE-BOOT "), "the probe's boot line");
      Duration healthStart = GuestExpectations.healthStart(b2, healthEnd);
      Duration status2 = require(b2, b2.firstAt("PROBE-STATUS "), "the agent's status");
      Duration reboot =
          Duration.ofNanos(boot2Start - boot1Start).plus(healthStart).minus(activated);
      record("reboot (activate done to health check start)", reboot);
      record("health check + commit", healthEnd.minus(healthStart));
      GuestExpectations.Committed after = GuestExpectations.v2CommittedOnSlotB(b2);
      say(
          "    v2 is up from ROOT-B and committed; agent status at "
              + secs(status2)
              + " into boot");
      String marker = GuestExpectations.markerKept(b2);
      say("    PERSIST kept across the upgrade: /persist/kubeos-demo-marker: " + marker);
      steps.put("total", since(start));
      String slotBefore = s1.path("bootedSlot").asText();
      Summary summary =
          new Summary(
              java.util.Collections.unmodifiableMap(new LinkedHashMap<>(steps)),
              slotBefore,
              s1.path("slots").path(slotBefore).path("version").asText(),
              after.slot(),
              after.version(),
              after.defaultSlot(),
              v[0].rootfsFromCache());
      printSummary(summary, work);
      return summary;
    } finally {
      beat.shutdownNow();
    }
  }

  private BuildResult build(String version, Path work) throws IOException {
    Path dir = work.resolve("v" + version);
    Path config = DemoImages.writeConfig(dir, version, opt.agentRuntime());
    BuildPlan plan = Images.plan(config, dir.resolve("out"), opt.cacheDir());
    Path log = plan.outputDir().resolve("build.log");
    String[] current = {""};
    long[] stepStart = {System.nanoTime()};
    activity =
        () ->
            "build "
                + version
                + ": "
                + current[0]
                + " running for "
                + secs(since(stepStart[0]))
                + "; "
                + log.getFileName()
                + ": "
                + lastLine(log);
    BuildResult r =
        Images.build(
            plan,
            e -> {
              switch (e.kind()) {
                case STARTED -> {
                  current[0] = e.step();
                  stepStart[0] = System.nanoTime();
                }
                case CACHED -> say("    " + e.step() + ": cached (" + e.detail() + ")");
                case NOTE -> say("    " + e.step() + ": " + e.detail());
                case DONE -> say("    " + e.step() + " done in " + secs(e.elapsed()));
              }
            },
            new FreshDiskInit(Clock.systemUTC())::init);
    activity = () -> null;
    sizes.keySet().removeIf(k -> k.startsWith("rootfs-"));
    sizes.putIfAbsent(
        "disk.img",
        mib(Files.size(r.disk())) + " apparent / " + mib(allocated(r.disk())) + " allocated");
    sizes.put(
        r.rootfsImage().getFileName().toString(),
        mib(Files.size(r.rootfsImage()))
            + " apparent / "
            + mib(allocated(r.rootfsImage()))
            + " allocated");
    sizes.put(r.rootfsTar().getFileName().toString(), mib(Files.size(r.rootfsTar())));
    say(
        "    "
            + r.disk()
            + " ("
            + mib(Files.size(r.disk()))
            + " apparent, "
            + mib(allocated(r.disk()))
            + " allocated); payload "
            + r.rootfsImage().getFileName()
            + " sha256 "
            + r.rootfsImageSha256().substring(0, 16)
            + "…");
    return r;
  }

  private QemuGuest.Boot boot(QemuGuest vm, Path job, String what)
      throws IOException, InterruptedException {
    DemoConsole console = new DemoConsole(what, this::say);
    activity = console::activity;
    QemuGuest.Boot b = vm.boot(job, opt.bootTimeout(), console);
    activity = () -> null;
    boots.add(b);
    say("    QEMU exited after " + secs(b.wall()));
    b.requireNoJvmCrash();
    return b;
  }

  private void printSummary(Summary s, Path work) {
    say("");
    say("Summary");
    say(
        String.format(
            Locale.ROOT,
            "  before: booted slot %s, KubeOS %s   after: booted slot %s, KubeOS %s (committed:"
                + " default slot %s)",
            s.slotBefore(),
            s.versionBefore(),
            s.slotAfter(),
            s.versionAfter(),
            s.defaultAfter()));
    say(
        "  rootfs for v1: "
            + (s.rootfsCachedForV1() ? "from the cache" : "built by debootstrap (cold cache)")
            + ", v2: from the cache");
    for (Map.Entry<String, Duration> e : s.steps().entrySet()) {
      say(String.format(Locale.ROOT, "  %-46s %8s", e.getKey(), secs(e.getValue())));
    }
    say("  sizes as built (disk.img of v1, payloads of v2):");
    for (Map.Entry<String, String> e : sizes.entrySet()) {
      say(String.format(Locale.ROOT, "    %-20s %s", e.getKey(), e.getValue()));
    }
    say("  files: " + work + " (images, job disk, console logs in logs/)");
  }

  private interface Step {
    void run() throws Exception;
  }

  private void step(String name, Step body) throws Exception {
    say("==> " + name);
    long t0 = System.nanoTime();
    body.run();
    Duration d = since(t0);
    steps.put(name, d);
    say("    " + name + " done in " + secs(d));
  }

  private void record(String name, Duration d) {
    steps.put(name, d);
  }

  private void heartbeat() {
    String what = activity.get();
    if (what != null && System.nanoTime() - lastPrint >= HEARTBEAT.toNanos()) {
      say("    ... " + what);
    }
  }

  private synchronized void say(String line) {
    Duration t = since(start);
    out.printf(Locale.ROOT, "[%2d:%02d] %s%n", t.toMinutes(), t.toSecondsPart(), line);
    out.flush();
    lastPrint = System.nanoTime();
  }

  private static Duration since(long t0) {
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  static String secs(Duration d) {
    return DemoConsole.secs(d);
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.0f MiB", bytes / 1048576.0);
  }

  /** Bytes allocated on disk (sparse files), from {@code du}. */
  static long allocated(Path file) {
    try {
      String o = Host.run(List.of("du", "-B1", "--", file.toString()));
      return Long.parseLong(o.split("\\s+")[0]);
    } catch (IOException | InterruptedException | NumberFormatException e) {
      return -1;
    }
  }

  private static String lastLine(Path log) {
    try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
      long len = f.length();
      int n = (int) Math.min(len, 2048);
      byte[] b = new byte[n];
      f.seek(len - n);
      f.readFully(b);
      String[] lines = new String(b, StandardCharsets.UTF_8).replace('\r', '\n').split("\n");
      for (int i = lines.length - 1; i >= 0; i--) {
        if (!lines[i].isBlank()) {
          return DemoConsole.clip(lines[i].strip(), 100);
        }
      }
      return "(empty)";
    } catch (IOException e) {
      return "(no log yet)";
    }
  }
}
