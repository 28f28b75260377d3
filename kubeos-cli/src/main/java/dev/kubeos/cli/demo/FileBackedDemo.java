package dev.kubeos.cli.demo;

import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.boot.FileBootEnvStore;
import dev.kubeos.agent.disk.DiskLayout;
import dev.kubeos.agent.disk.FileBlockDevice;
import dev.kubeos.agent.host.ProcessCommandRunner;
import dev.kubeos.agent.model.BootDecision;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.cli.Main;
import dev.kubeos.formats.boot.GrubEnvBlock;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The agent demo on a disk image file: every step is the real agent code on a real GPT image with
 * real ext4 file systems; only the reboot is simulated (the bootloader's selection, computed by the
 * same function the grub.cfg implements, then the agent is started as the new boot would).
 */
public final class FileBackedDemo {
  private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(5);

  private final Path work;
  private final PrintStream out;
  private final CommandRunner commands = new ProcessCommandRunner();
  private final Map<String, Duration> timings = new LinkedHashMap<>();

  public FileBackedDemo(Path work, PrintStream out) {
    this.work = work.toAbsolutePath();
    this.out = out;
  }

  public int run() throws Exception {
    Path disk = work.resolve("disk.img");
    Path boot = work.resolve("esp");
    Path state = work.resolve("persist/kubeos");
    Path payloads = work.resolve("payloads");
    step("prepare an empty work dir", () -> clean());
    step("create a 1 GiB GPT disk image (ESP, ROOT-A, ROOT-B, PERSIST)", () -> partition(disk));
    step("put v1 into ROOT-A (mkfs.ext4 -d)", () -> mkfsIntoSlot(disk, Slot.A, rootfs("v1")));
    String[] global = {
      "agent",
      "--disk",
      disk.toString(),
      "--boot-dir",
      boot.toString(),
      "--state-dir",
      state.toString()
    };
    step("kubeos agent init --version v1", () -> kubeos(global, "A", "init", "--version", "v1"));
    Path image = payloads.resolve("kubeos-v2.img");
    step(
        "build the v2 payload (raw ext4 root file-system image)",
        () -> buildPayload(rootfs("v2"), image));
    String sha = sha256(image);
    out.println(
        "  payload "
            + image.getFileName()
            + ": "
            + Files.size(image) / 1048576
            + " MiB, sha256 "
            + sha);
    try (StaticHttpServer server = new StaticHttpServer(payloads)) {
      String url = server.baseUrl() + image.getFileName();
      step(
          "kubeos agent stage (from " + url + ")",
          () ->
              kubeos(
                  global,
                  "A",
                  "stage",
                  "--url",
                  url,
                  "--sha256",
                  sha,
                  "--version",
                  "v2",
                  "--insecure"));
    }
    step("kubeos agent activate", () -> kubeos(global, "A", "activate"));
    Slot[] booted = new Slot[1];
    step("reboot (simulated): the bootloader picks the slot", () -> booted[0] = simulateGrub(boot));
    out.println("  the bootloader starts slot " + booted[0]);
    step(
        "kubeos agent health (on the trial boot: pass -> commit)",
        () -> kubeos(global, booted[0].name(), "health"));
    step("kubeos agent status", () -> kubeos(global, booted[0].name(), "status"));
    step("read /etc/os-release from slot " + booted[0], () -> showOsRelease(disk, booted[0]));
    summary(disk, booted[0]);
    return 0;
  }

  private void clean() throws IOException {
    if (Files.exists(work)) {
      try (Stream<Path> s = Files.walk(work)) {
        for (Path p : s.sorted((a, b) -> b.compareTo(a)).toList()) {
          Files.delete(p);
        }
      }
    }
    Files.createDirectories(work.resolve("payloads"));
  }

  private void partition(Path disk) throws IOException {
    try (var f = new java.io.RandomAccessFile(disk.toFile(), "rw")) {
      f.setLength(1024L << 20);
    }
    tool(
        "sgdisk",
        "-o",
        "-n1:2048:+64M",
        "-t1:EF00",
        "-c1:ESP",
        "-n2:0:+384M",
        "-t2:8304",
        "-c2:ROOT-A",
        "-n3:0:+384M",
        "-t3:8304",
        "-c3:ROOT-B",
        "-n4:0:0",
        "-t4:8300",
        "-c4:PERSIST",
        disk.toString());
  }

  private Path rootfs(String version) throws IOException {
    Path dir = work.resolve("rootfs-" + version);
    for (String d : List.of("etc", "usr/bin", "var", "persist", "boot/efi")) {
      Files.createDirectories(dir.resolve(d));
    }
    Files.writeString(
        dir.resolve("etc/os-release"),
        "NAME=KubeOS\nVERSION_ID="
            + version
            + "\nPRETTY_NAME=\"KubeOS "
            + version
            + "\"\nID=kubeos\n");
    // some content, so that the payload is more than an empty file system
    byte[] blob = new byte[8 << 20];
    new java.util.Random(version.hashCode()).nextBytes(blob);
    Files.write(dir.resolve("usr/bin/payload-" + version + ".bin"), blob);
    return dir;
  }

  private void mkfsIntoSlot(Path disk, Slot slot, Path tree) throws IOException {
    long offset;
    long size;
    try (BlockDevice d = FileBlockDevice.open(disk, false)) {
      DiskLayout layout = DiskLayout.read(d, disk.toString());
      offset = layout.slotOffset(slot);
      size = layout.slotSize(slot);
    }
    tool(
        "mkfs.ext4",
        "-q",
        "-F",
        "-L",
        slot.partitionName(),
        "-E",
        "offset=" + offset + ",root_owner=0:0",
        "-d",
        tree.toString(),
        disk.toString(),
        (size / 1024) + "k");
  }

  private void buildPayload(Path tree, Path image) throws IOException {
    tool(
        "mkfs.ext4",
        "-q",
        "-F",
        "-L",
        "KUBEOS-ROOT",
        "-E",
        "root_owner=0:0",
        "-d",
        tree.toString(),
        image.toString(),
        "96M");
  }

  private Slot simulateGrub(Path boot) throws IOException {
    FileBootEnvStore store = new FileBootEnvStore(boot);
    BootDecision d = new BootEnv(store).nextBoot();
    if (d.trial()) {
      // what grub.cfg does before starting a trial: record it as consumed (boot-once)
      store.writeBootRecord(
          GrubEnvBlock.encode(Map.of("kubeos_tried", Long.toString(d.consumedTrialId()))));
    }
    return d.slot();
  }

  private void showOsRelease(Path disk, Slot slot) throws IOException {
    Path copy = work.resolve("slot-" + slot + ".img");
    try (BlockDevice d = FileBlockDevice.open(disk, false)) {
      DiskLayout layout = DiskLayout.read(d, disk.toString());
      tool(
          "dd",
          "if=" + disk,
          "of=" + copy,
          "bs=4M",
          "iflag=skip_bytes,count_bytes",
          "skip=" + layout.slotOffset(slot),
          "count=" + layout.slotSize(slot),
          "status=none");
    }
    CommandRunner.Result r =
        commands.run(
            List.of("debugfs", "-R", "cat /etc/os-release", copy.toString()), TOOL_TIMEOUT);
    r.output().lines().filter(l -> !l.startsWith("debugfs ")).forEach(l -> out.println("  | " + l));
    Files.delete(copy);
  }

  private void summary(Path disk, Slot booted) {
    out.println();
    out.println("Summary");
    out.println("  disk image: " + disk);
    out.println(
        "  the node moved from v1 (slot A) to v2 (slot "
            + booted
            + "), committed after its health check");
    Duration total = Duration.ZERO;
    for (Map.Entry<String, Duration> e : timings.entrySet()) {
      out.printf("  %7.2f s  %s%n", e.getValue().toMillis() / 1000.0, e.getKey());
      total = total.plus(e.getValue());
    }
    out.printf("  %7.2f s  total%n", total.toMillis() / 1000.0);
  }

  private void kubeos(String[] global, String bootedSlot, String... command) {
    List<String> args = new ArrayList<>(List.of(global));
    args.add("--booted-slot");
    args.add(bootedSlot);
    args.addAll(List.of(command));
    out.println("  $ kubeos " + String.join(" ", args));
    int rc = Main.commandLine().execute(args.toArray(String[]::new));
    if (rc != 0) {
      throw new IllegalStateException("kubeos " + String.join(" ", command) + " exited " + rc);
    }
  }

  private void tool(String... argv) throws IOException {
    CommandRunner.Result r = commands.run(List.of(argv), TOOL_TIMEOUT);
    if (!r.ok()) {
      throw new IOException(argv[0] + " failed (exit " + r.exitStatus() + "): " + r.output());
    }
  }

  private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 20];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private void step(String name, Step step) throws Exception {
    out.println();
    out.println("==> " + name);
    long t0 = System.nanoTime();
    step.run();
    timings.put(name, Duration.ofNanos(System.nanoTime() - t0));
  }

  @FunctionalInterface
  private interface Step {
    void run() throws Exception;
  }
}
