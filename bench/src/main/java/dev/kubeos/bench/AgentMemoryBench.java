package dev.kubeos.bench;

import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.formats.chunk.ChunkerParams;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.files.WorkDirs;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.rpc.JsonRpcClient;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.RegistryServer;
import dev.kubeos.testing.TestDisks;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Peak resident memory of the agent daemon per staging path, with the systemd unit's exact JVM
 * flags: a fresh {@code agent serve} (the unit's {@code ExecStart} JVM options, its CDS archive in
 * the work directory) for each of idle, a raw stage over loopback http, a delta stage (chunk index
 * + Range requests) and an {@code os.tar} container image from Debian's docker-registry. Reads
 * {@code VmHWM} (the kernel's peak RSS) and {@code VmRSS} from {@code /proc/PID/status} and the CPU
 * time from {@code /proc/PID/stat}; with {@code --nmt} also the JVM's native memory summary ({@code
 * jcmd PID VM.native_memory summary}) after each stage. With {@code --cli OPTS} (repeatable) the
 * same raw stage also runs as a one-shot {@code agent stage} JVM with those options (on this
 * benchmark's own java, or on the java whose path is the first word of OPTS when that is not a
 * flag), and with {@code --launcher ./kubeos} through the checkout launcher itself, for the
 * CLI-versus-daemon comparison. Path {@code activated} is the raw stage as the node makes it
 * between upgrades: the first request to a socket-activated agent that is not running, timed from
 * the connection to the answer, so the agent's JVM start is in it (a few lines of Python play
 * systemd's {@code kubeos-agent.socket}: listen, and start the unit's command line with the
 * listening socket as its standard input once a connection waits).
 */
public final class AgentMemoryBench {
  private static final long MIB = 1 << 20;

  private record Sample(
      String path, double seconds, long idleKiB, long hwmKiB, long rssAfterKiB, double cpuS) {}

  public static void main(String[] args) throws Exception {
    Path java = null;
    Path jar = null;
    Path cliJar = null;
    Path unit = Path.of("deploy/systemd/kubeos-agent.service");
    Path base = Path.of("/var/tmp");
    long size = 1L << 30;
    int runs = 1;
    boolean nmt = false;
    List<String> extra = new ArrayList<>();
    Map<String, String> env = new LinkedHashMap<>();
    List<String> cliOpts = new ArrayList<>();
    List<String> paths = new ArrayList<>(List.of("idle", "raw", "delta", "ostar"));
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--java" -> java = Path.of(args[++i]);
        case "--jar" -> jar = Path.of(args[++i]);
        case "--cli-jar" -> cliJar = Path.of(args[++i]);
        case "--unit" -> unit = Path.of(args[++i]);
        case "--dir" -> base = Path.of(args[++i]);
        case "--size-mib" -> size = Long.parseLong(args[++i]) * MIB;
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--nmt" -> nmt = true;
        case "--env" -> {
          String[] kv = args[++i].split("=", 2);
          env.put(kv[0], kv[1]);
        }
        case "--extra" -> extra.addAll(Arrays.asList(args[++i].trim().split("\\s+")));
        case "--cli" -> cliOpts.add(args[++i]);
        case "--launcher" -> cliOpts.add("launcher:" + args[++i]);
        case "--paths" -> paths = Arrays.asList(args[++i].split(","));
        default ->
            throw new IllegalArgumentException(
                "usage: --java JAVA --jar AGENT.jar [--cli-jar kubeos.jar --cli 'JVM OPTS']..."
                    + " [--unit FILE] [--dir D] [--size-mib N] [--runs N] [--nmt] [--extra 'JVM OPTS']"
                    + " [--env NAME=VALUE]"
                    + " [--paths idle,raw,delta,ostar,activated]");
      }
    }
    if (java == null || jar == null) {
      throw new IllegalArgumentException("--java and --jar are required");
    }
    System.setProperty("sun.net.httpserver.nodelay", "true");
    Path dir = Files.createTempDirectory(base, "agent-mem-bench-");
    try (RegistryServer registry =
            paths.contains("ostar") ? RegistryServer.start(dir.resolve("registry")) : null;
        PayloadServer server = PayloadServer.http()) {
      List<String> flags = unitFlags(unit, dir);
      flags.addAll(extra);
      new AgentMemoryBench(dir, java, jar, flags, env, size, nmt)
          .run(server, registry, paths, runs, cliJar, cliOpts);
    } finally {
      WorkDirs.deleteRecursively(dir);
    }
  }

  private final Path dir;
  private final Path java;
  private final Path jar;
  private final List<String> flags;
  private final Map<String, String> env;
  private final long size;
  private final boolean nmt;
  private final Path disk;

  private AgentMemoryBench(
      Path dir,
      Path java,
      Path jar,
      List<String> flags,
      Map<String, String> env,
      long size,
      boolean nmt) {
    this.dir = dir;
    this.java = java;
    this.jar = jar;
    this.flags = flags;
    this.env = env;
    this.size = size;
    this.nmt = nmt;
    // slots big enough for the os.tar's ext4 file system (the tar plus a quarter) as OciBench
    this.disk = TestDisks.create(dir.resolve("disk.img"), 2, size / MIB + size / MIB / 4 + 64, 16);
  }

  /** The unit's ExecStart JVM options, its CDS archive moved into the work directory. */
  static List<String> unitFlags(Path unit, Path dir) throws IOException {
    String exec =
        Files.readAllLines(unit).stream()
            .filter(l -> l.startsWith("ExecStart="))
            .findFirst()
            .orElseThrow(() -> new IllegalStateException("no ExecStart= in " + unit));
    List<String> out = new ArrayList<>();
    for (String t : exec.split("\\s+")) {
      if (t.startsWith("-XX:SharedArchiveFile=")) {
        out.add("-XX:SharedArchiveFile=" + dir.resolve("agent.jsa"));
      } else if (t.startsWith("-X") || t.startsWith("-D")) {
        out.add(t);
      }
    }
    return out;
  }

  private void run(
      PayloadServer server,
      RegistryServer registry,
      List<String> paths,
      int runs,
      Path cliJar,
      List<String> cliOpts)
      throws Exception {
    long t0 = System.nanoTime();
    Path v1 = dir.resolve("v1.img");
    Path v2 = dir.resolve("v2.img");
    writeImages(v1, v2);
    ChunkIndexFiles.writeIndex(v2, ChunkerParams.ext4Defaults());
    Path index = ChunkIndexFiles.indexPathFor(v2);
    BenchDisks.copyInto(v1, disk, TestDisks.partition(disk, "ROOT-A"));
    String v1Sha = BenchDisks.sha256(v1).hex();
    String v2Sha = BenchDisks.sha256(v2).hex();
    server.serve("/v2.img", v2).serve("/v2.img.chunkidx", index);
    HostAgents.create(options(), Clock.systemUTC()).init("1", v1Sha);
    String ref = null;
    String refDigest = null;
    if (registry != null) {
      ref = registry.host() + "/kubeos/os:big";
      RegistryOptions ro =
          RegistryOptions.defaults()
              .withHostsDir(dir.resolve("certs.d"))
              .withDockerConfig(dir.resolve("docker.json"));
      Path layer = dir.resolve("layer.tar");
      Sha256 layerDigest = OciBench.writeLayer(layer, size, false);
      RegistryClient client =
          RegistryClient.forImage(
              ImageReference.parse(ref), ro, FetchOptions.defaults().withInsecure(true));
      refDigest = OciBench.push(client, layer, layerDigest, false).hex();
      Files.delete(layer);
    }
    System.out.printf(
        "payloads of %d MiB ready in %.1f s; %d cores; daemon: %s %s -jar %s%n",
        size / MIB,
        (System.nanoTime() - t0) / 1e9,
        Runtime.getRuntime().availableProcessors(),
        java,
        String.join(" ", flags),
        jar);
    List<Sample> samples = new ArrayList<>();
    for (int r = 0; r < runs; r++) {
      for (String p : paths) {
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("version", "2");
        req.put("flag_safe", true);
        switch (p) {
          case "idle" -> req = null;
          case "raw", "activated" -> {
            req.put("image_type", "raw");
            req.put("image_url", server.url("/v2.img").toString());
            req.put("check_sum", v2Sha);
          }
          case "delta" -> {
            req.put("image_type", "delta");
            req.put("image_url", server.url("/v2.img.chunkidx").toString());
            req.put("check_sum", v2Sha);
          }
          case "ostar" -> {
            req.put("image_type", "containerd");
            req.put("container_image", ref);
            req.put("check_sum", refDigest);
          }
          default -> throw new IllegalArgumentException("unknown path " + p);
        }
        samples.add(p.equals("activated") ? activated(req) : daemon(p, req));
      }
      for (String opts : cliOpts) {
        samples.add(cli(cliJar, opts, server.url("/v2.img").toString(), v2Sha));
      }
    }
    System.out.printf(
        "%n| path | stage s | idle RSS MiB | peak RSS (VmHWM) MiB | RSS 1 s after MiB | CPU s |%n"
            + "|---|---:|---:|---:|---:|---:|%n");
    for (Sample s : samples) {
      System.out.printf(
          "| %s | %.2f | %.1f | %.1f | %.1f | %.2f |%n",
          s.path(),
          s.seconds(),
          s.idleKiB() / 1024.0,
          s.hwmKiB() / 1024.0,
          s.rssAfterKiB() / 1024.0,
          s.cpuS());
    }
  }

  private AgentOptions options() {
    return new AgentOptions(
        disk, dir.resolve("esp"), dir.resolve("persist"), Slot.A, dir.resolve("none.json"), dir);
  }

  private List<String> agentArgs() {
    return List.of(
        "agent",
        "--disk",
        disk.toString(),
        "--boot-dir",
        dir.resolve("esp").toString(),
        "--state-dir",
        dir.resolve("persist").toString(),
        "--booted-slot",
        "A",
        "--health-config",
        dir.resolve("none.json").toString(),
        "--cert-dir",
        dir.toString(),
        "--trust-dir",
        dir.resolve("trust").toString(),
        "--registry-hosts-dir",
        dir.resolve("certs.d").toString(),
        "--docker-config",
        dir.resolve("docker.json").toString());
  }

  /** v1: incompressible bytes; v2: v1 with 256 KiB rewritten at the start of every 32 MiB. */
  private void writeImages(Path v1, Path v2) throws IOException {
    SplittableRandom rnd = new SplittableRandom(7);
    ByteBuffer buf = ByteBuffer.allocate((int) MIB);
    try (FileChannel a =
            FileChannel.open(v1, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        FileChannel b =
            FileChannel.open(v2, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (long at = 0; at < size; at += MIB) {
        fill(buf.array(), 0, buf.capacity(), rnd);
        a.write(buf.clear());
        if (at % (32 * MIB) == 0) {
          fill(buf.array(), 0, 256 << 10, rnd);
        }
        b.write(buf.clear());
      }
    }
  }

  private static void fill(byte[] b, int from, int to, SplittableRandom rnd) {
    for (int i = from; i < to; i += 8) {
      long v = rnd.nextLong();
      for (int k = 0; k < 8; k++) {
        b[i + k] = (byte) (v >>> (8 * k));
      }
    }
  }

  private void reset() throws Exception {
    BenchDisks.punch(disk, TestDisks.partition(disk, "ROOT-B"));
    WorkDirs.deleteRecursively(dir.resolve("persist/blobs"));
    sh("sync");
  }

  /** A fresh daemon: idle RSS 3 s after its first answer, then one stage and its peak RSS. */
  private Sample daemon(String path, Map<String, Object> req) throws Exception {
    reset();
    Path socket = dir.resolve("run/agent.sock");
    Files.createDirectories(socket.getParent());
    List<String> cmd = new ArrayList<>();
    cmd.add(java.toString());
    cmd.addAll(flags);
    if (nmt) {
      cmd.add("-XX:NativeMemoryTracking=summary");
    }
    cmd.addAll(List.of("-jar", jar.toString()));
    cmd.addAll(agentArgs());
    cmd.addAll(List.of("serve", "--socket", socket.toString()));
    Path log = dir.resolve("serve-" + path + ".log");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      JsonRpcClient client = new JsonRpcClient(socket, Duration.ofMinutes(15));
      while (true) {
        try {
          client.call("status");
          break;
        } catch (RuntimeException notYet) {
          if (!p.isAlive()) {
            throw new IllegalStateException("serve exited: " + Files.readString(log));
          }
          Thread.sleep(20);
        }
      }
      Thread.sleep(3000); // idle
      long idle = ProcStats.statusKiB(p.pid(), "VmRSS:");
      double seconds = 0;
      if (req != null) {
        long t = System.nanoTime();
        client.call("prepare_upgrade", req);
        seconds = (System.nanoTime() - t) / 1e9;
      }
      if (nmt) {
        Path jcmd = jcmd();
        Process j =
            new ProcessBuilder(
                    jcmd.toString(), String.valueOf(p.pid()), "VM.native_memory", "summary")
                .redirectErrorStream(true)
                .start();
        String out = new String(j.getInputStream().readAllBytes());
        j.waitFor();
        System.out.println("--- NMT after " + path + " ---");
        System.out.println(out);
      }
      for (String line : Files.readAllLines(log)) {
        if (line.contains("WARNING") || line.contains("instead")) {
          System.out.println(path + ": " + line);
        }
      }
      long hwm = ProcStats.statusKiB(p.pid(), "VmHWM:");
      Thread.sleep(1000); // RSS after: a second after the answer, once cleaners have run
      return new Sample(
          "daemon " + path,
          seconds,
          idle,
          hwm,
          ProcStats.statusKiB(p.pid(), "VmRSS:"),
          ProcStats.cpuSeconds(p.pid()));
    } finally {
      p.destroy();
      p.waitFor();
    }
  }

  /** What systemd does for kubeos-agent.socket (Accept=no, StandardInput=socket), once. */
  private static final String FAKE_SOCKET_UNIT =
      String.join(
          "\n",
          "import os, select, socket, subprocess, sys",
          "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
          "s.bind(sys.argv[1])",
          "os.chmod(sys.argv[1], 0o600)",
          "s.listen(64)",
          "print('listening', flush=True)",
          "select.select([s], [], [])",
          "subprocess.Popen(sys.argv[2:], stdin=s.fileno(), stdout=sys.stderr).wait()",
          "");

  /**
   * The stage as the first request of a socket-activated agent: connection to answer, the JVM start
   * included; the agent's peak RSS and CPU read right after its answer.
   */
  private Sample activated(Map<String, Object> req) throws Exception {
    reset();
    Path socket = dir.resolve("run/activated.sock");
    Files.createDirectories(socket.getParent());
    Files.deleteIfExists(socket);
    List<String> cmd =
        new ArrayList<>(List.of("python3", "-c", FAKE_SOCKET_UNIT, socket.toString()));
    cmd.add(java.toString());
    cmd.addAll(flags);
    cmd.addAll(List.of("-jar", jar.toString()));
    cmd.addAll(agentArgs());
    cmd.addAll(List.of("serve", "--idle-exit", "60s"));
    Path log = dir.resolve("serve-activated.log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      String first =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
              .readLine();
      if (!"listening".equals(first)) {
        throw new IllegalStateException(
            "the fake socket unit did not listen: " + Files.readString(log));
      }
      long t = System.nanoTime();
      new JsonRpcClient(socket, Duration.ofMinutes(15)).call("prepare_upgrade", req);
      double seconds = (System.nanoTime() - t) / 1e9;
      ProcessHandle agent =
          p.toHandle()
              .children()
              .findFirst()
              .orElseThrow(() -> new IllegalStateException("no agent"));
      return new Sample(
          "daemon activated (first request: JVM start + stage)",
          seconds,
          0,
          ProcStats.statusKiB(agent.pid(), "VmHWM:"),
          ProcStats.statusKiB(agent.pid(), "VmRSS:"),
          ProcStats.cpuSeconds(agent.pid()));
    } finally {
      p.toHandle().descendants().forEach(ProcessHandle::destroy);
      p.destroy();
      p.waitFor();
    }
  }

  /** The raw stage as a one-shot {@code agent stage} JVM with {@code opts}, under /usr/bin/time. */
  private Sample cli(Path cliJar, String opts, String url, String sha) throws Exception {
    reset();
    Path report = dir.resolve("time.txt");
    List<String> cmd =
        new ArrayList<>(List.of("/usr/bin/time", "-f", "%e %M %U %S", "-o", report.toString()));
    boolean launcher = opts.startsWith("launcher:");
    if (launcher) {
      cmd.add(opts.substring("launcher:".length()));
    } else {
      List<String> o = opts.isBlank() ? List.of() : Arrays.asList(opts.trim().split("\\s+"));
      // a first word that is not a flag names the java to run (default: this benchmark's own)
      if (!o.isEmpty() && !o.get(0).startsWith("-")) {
        cmd.addAll(o);
      } else {
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(o);
      }
      cmd.addAll(List.of("-jar", cliJar.toString()));
    }
    cmd.addAll(agentArgs());
    cmd.addAll(List.of("stage", "--url", url, "--insecure", "--sha256", sha, "--version", "2"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException("cli stage failed: " + out);
    }
    String[] t = Files.readString(report).trim().split("\\s+");
    // the stage's own time as the CLI prints it ("staged 2: ... in 9.8 s"), without JVM start
    Matcher m = Pattern.compile(" in ([0-9.]+) s").matcher(out);
    String inner = m.find() ? " (stage itself " + m.group(1) + " s)" : "";
    return new Sample(
        (launcher
                ? "cli: " + opts.substring("launcher:".length()) + " agent ... stage"
                : !opts.isBlank() && !opts.trim().startsWith("-")
                    ? "cli " + opts.trim()
                    : "cli (JDK "
                        + Runtime.version().feature()
                        + ") "
                        + (opts.isBlank() ? "default JIT" : opts))
            + inner,
        Double.parseDouble(t[0]),
        0,
        Long.parseLong(t[1]),
        0,
        Double.parseDouble(t[2]) + Double.parseDouble(t[3]));
  }

  private Path jcmd() {
    Path sibling = java.resolveSibling("jcmd");
    if (Files.isExecutable(sibling)) {
      return sibling;
    }
    Path temurin = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/jcmd");
    return Files.isExecutable(temurin) ? temurin : Path.of("jcmd");
  }

  private static void sh(String cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("bash", "-c", cmd).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IOException(cmd + " exited " + p.exitValue());
    }
  }
}
