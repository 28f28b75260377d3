package dev.kubeos.bench;

import dev.kubeos.crd.OSInstance;
import dev.kubeos.formats.files.WorkDirs;
import dev.kubeos.rpc.JsonRpcClient;
import dev.kubeos.testing.TestDisks;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Idle cost of the node proxy: fabric8's mock API server in CRUD mode with the project's CRDs, one
 * Node, a real agent daemon (the systemd unit's flags) on a GPT disk image, and {@code kubeos
 * proxy} for that node as a separate JVM started as the image starts it: the entrypoint's JVM flags
 * (kubeos-container's Jib configuration), {@code JAVA_TOOL_OPTIONS} and {@code MALLOC_ARENA_MAX}
 * from the DaemonSet, kubeos-cli's runtime classpath ({@code --classpath}, as the image's
 * jib-classpath-file) or the shaded jar ({@code --jar}). After the proxy registered its OSInstance,
 * samples its RSS, CPU time and the API requests the mock server received, every 10 s for the idle
 * period; then changes the Node's labels a few times (an event each) and samples again. With {@code
 * --nmt} the proxy runs with {@code -XX:NativeMemoryTracking=summary}, and at the end of the idle
 * period the bench prints {@code jcmd PID VM.native_memory summary}, {@code GC.heap_info}, the
 * largest entries of {@code GC.class_histogram} (a full GC: the live set) and the heap after it
 * (NMT itself adds a few MiB of RSS: take the RSS from a run without it).
 */
public final class ProxyIdleBench {
  private static final String NODE = "node-1";

  public static void main(String[] args) throws Exception {
    Path jar = null;
    String classpath = null;
    Path imagePom = Path.of("kubeos-container/pom.xml");
    Path agentJava = null;
    Path agentJar = null;
    Path daemonSet = Path.of("deploy/proxy/daemonset.yaml");
    Path unit = Path.of("deploy/systemd/kubeos-agent.service");
    int idleSeconds = 180;
    int events = 5;
    String opts = null;
    boolean nmt = false;
    Map<String, String> env = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--jar" -> jar = Path.of(args[++i]);
        case "--classpath" -> classpath = args[++i];
        case "--image-pom" -> imagePom = Path.of(args[++i]);
        case "--agent-java" -> agentJava = Path.of(args[++i]);
        case "--agent-jar" -> agentJar = Path.of(args[++i]);
        case "--daemonset" -> daemonSet = Path.of(args[++i]);
        case "--idle-seconds" -> idleSeconds = Integer.parseInt(args[++i]);
        case "--events" -> events = Integer.parseInt(args[++i]);
        case "--java-tool-options" -> opts = args[++i];
        case "--nmt" -> nmt = true;
        case "--env" -> {
          String[] kv = args[++i].split("=", 2);
          env.put(kv[0], kv[1]);
        }
        default ->
            throw new IllegalArgumentException(
                "usage: --jar kubeos.jar | --classpath CP, --agent-java JAVA --agent-jar AGENT.jar"
                    + " [--daemonset F] [--image-pom kubeos-container/pom.xml]"
                    + " [--idle-seconds N] [--events N] [--java-tool-options OPTS] [--nmt] [--env K=V]...");
      }
    }
    if (opts == null) {
      opts = javaToolOptions(daemonSet);
    }
    for (String name : ENV_FROM_DAEMONSET) {
      String v = envValue(daemonSet, name);
      if (v != null) {
        env.putIfAbsent(name, v);
      }
    }
    if (nmt) {
      opts = opts + " -XX:NativeMemoryTracking=summary";
    }
    Path dir = Files.createTempDirectory(Path.of("/var/tmp"), "proxy-idle-bench-");
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    Process agent = null;
    Process proxy = null;
    try (KubernetesClient client = server.createClient()) {
      for (String f : new String[] {"os", "osinstances"}) {
        Path crd = Path.of("deploy", "crds", f + ".upgrade.openeuler.org-v1.yml");
        client.apiextensions().v1().customResourceDefinitions().load(crd.toFile()).create();
      }
      client
          .nodes()
          .resource(
              new NodeBuilder()
                  .withNewMetadata()
                  .withName(NODE)
                  .addToLabels("kubernetes.io/hostname", NODE)
                  .endMetadata()
                  .withNewStatus()
                  .withNewNodeInfo()
                  .withOsImage("KubeOS 1")
                  .endNodeInfo()
                  .endStatus()
                  .build())
          .create();
      agent = startAgent(dir, agentJava, agentJar, unit);
      // as the image starts it: its entrypoint's JVM flags, then the classpath and Main
      List<String> cmd = new ArrayList<>();
      cmd.add(ProcessHandle.current().info().command().orElse("java"));
      cmd.addAll(entrypointFlags(imagePom));
      cmd.addAll(
          classpath != null
              ? List.of("-cp", classpath, "dev.kubeos.cli.Main")
              : List.of("-jar", jar.toString()));
      cmd.addAll(
          List.of(
              "proxy",
              "--namespace",
              "default",
              "--socket",
              dir.resolve("run/agent.sock").toString()));
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("proxy.log").toFile());
      // configured as in its pod, without a kubeconfig file (which would load a YAML parser the
      // pod's service-account configuration never needs): the API server's URL and a token
      pb.environment().put("KUBECONFIG", dir.resolve("no-kubeconfig").toString());
      pb.environment().put("KUBERNETES_MASTER", server.url("/").replaceAll("/$", ""));
      pb.environment().put("KUBERNETES_AUTH_TOKEN", "not-checked");
      pb.environment().put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
      pb.environment().put("NODE_NAME", NODE);
      pb.environment().put("JAVA_TOOL_OPTIONS", opts.replace("/tmp", dir.toString()));
      pb.environment().putAll(env);
      System.out.printf(
          "%d cores, load %s; proxy: %sJAVA_TOOL_OPTIONS=\"%s\" java (%s) %s proxy%n",
          Runtime.getRuntime().availableProcessors(),
          Files.readString(Path.of("/proc/loadavg")).trim(),
          env.entrySet().stream()
              .map(e -> e.getKey() + "=" + e.getValue() + " ")
              .reduce("", String::concat),
          opts,
          Runtime.version(),
          classpath != null
              ? String.join(" ", entrypointFlags(imagePom))
                  + " -cp (kubeos-cli's runtime classpath)"
              : String.join(" ", entrypointFlags(imagePom)) + " -jar " + jar);
      long t0 = System.nanoTime();
      proxy = pb.start();
      while (client.resources(OSInstance.class).inNamespace("default").withName(NODE).get()
          == null) {
        if (!proxy.isAlive()) {
          throw new IllegalStateException(
              "proxy exited: " + Files.readString(dir.resolve("proxy.log")));
        }
        Thread.sleep(100);
      }
      System.out.printf(
          "OSInstance registered %.1f s after the proxy's start%n", (System.nanoTime() - t0) / 1e9);
      Thread.sleep(10_000); // let the first passes settle
      System.out.printf(
          "%n| phase | t s | RSS MiB | peak RSS MiB | CPU s (total) | API requests (total) |"
              + "%n|---|---:|---:|---:|---:|---:|%n");
      long start = System.nanoTime();
      Sample first = sample(proxy.pid(), server);
      print("idle start", 0, first);
      Sample last = first;
      for (int s = 10; s <= idleSeconds; s += 10) {
        Thread.sleep(10_000);
        last = sample(proxy.pid(), server);
        print("idle", (System.nanoTime() - start) / 1e9, last);
      }
      Sample idleEnd = last;
      if (nmt) {
        for (String jc : new String[] {"VM.native_memory summary", "GC.heap_info"}) {
          System.out.println("--- jcmd " + jc + " ---");
          System.out.println(jcmd(proxy.pid(), jc.split(" ")));
        }
        // after heap_info: the histogram's full GC leaves the live set
        System.out.println("--- jcmd GC.class_histogram (the 25 largest) ---");
        jcmd(proxy.pid(), "GC.class_histogram").lines().limit(28).forEach(System.out::println);
        System.out.println("--- jcmd GC.heap_info (after that full GC) ---");
        System.out.println(jcmd(proxy.pid(), "GC.heap_info"));
      }
      for (int e = 1; e <= events; e++) {
        int n = e;
        client
            .nodes()
            .withName(NODE)
            .edit(
                node -> {
                  node.getMetadata().getLabels().put("bench.kubeos.dev/event", String.valueOf(n));
                  return node;
                });
        Thread.sleep(10_000);
        last = sample(proxy.pid(), server);
        print("event " + e + " (node label)", (System.nanoTime() - start) / 1e9, last);
      }
      System.out.printf(
          "%nidle %d s: CPU %.2f s (%.3f s/min), %d API requests, RSS %.1f -> %.1f MiB;"
              + " %d events: CPU %.2f s (%.3f s/event), %d API requests%n",
          idleSeconds,
          idleEnd.cpu() - first.cpu(),
          (idleEnd.cpu() - first.cpu()) * 60 / idleSeconds,
          idleEnd.requests() - first.requests(),
          first.rssKiB() / 1024.0,
          idleEnd.rssKiB() / 1024.0,
          events,
          last.cpu() - idleEnd.cpu(),
          events == 0 ? 0 : (last.cpu() - idleEnd.cpu()) / events,
          last.requests() - idleEnd.requests());
      System.out.println("threads of the proxy: " + threads(proxy.pid()));
    } finally {
      for (Process p : new Process[] {proxy, agent}) {
        if (p != null) {
          p.destroy();
          p.waitFor();
        }
      }
      try {
        server.destroy();
      } catch (IllegalStateException e) {
        System.err.println("mock server did not close in time: " + e);
      }
      WorkDirs.deleteRecursively(dir);
    }
    System.exit(0); // the mock server's Vert.x threads are not daemons
  }

  record Sample(long rssKiB, long hwmKiB, double cpu, int requests) {}

  /** {@code jcmd PID ARGS} of the JDK that runs this bench (and the proxy). */
  private static String jcmd(long pid, String... args) throws Exception {
    Path java = Path.of(ProcessHandle.current().info().command().orElse("java"));
    Path jcmd = java.resolveSibling("jcmd");
    List<String> cmd =
        new ArrayList<>(List.of(Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd"));
    cmd.add(String.valueOf(pid));
    cmd.addAll(List.of(args));
    Process j = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(j.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    j.waitFor();
    return out;
  }

  private static Sample sample(long pid, KubernetesMockServer server) throws IOException {
    return new Sample(
        ProcStats.statusKiB(pid, "VmRSS:"),
        ProcStats.statusKiB(pid, "VmHWM:"),
        ProcStats.cpuSeconds(pid),
        server.getRequestCount());
  }

  private static void print(String phase, double t, Sample s) {
    System.out.printf(
        "| %s | %.0f | %.1f | %.1f | %.2f | %d |%n",
        phase, t, s.rssKiB() / 1024.0, s.hwmKiB() / 1024.0, s.cpu(), s.requests());
  }

  /**
   * The JVM flags of the image's entrypoint ({@code <entrypoint>} of kubeos-container's Jib
   * configuration): the {@code -XX} arguments before {@code -cp}.
   */
  static List<String> entrypointFlags(Path imagePom) throws IOException {
    Matcher e =
        Pattern.compile("<entrypoint>(.*?)</entrypoint>", Pattern.DOTALL)
            .matcher(Files.readString(imagePom));
    if (!e.find()) {
      throw new IllegalStateException("no <entrypoint> in " + imagePom);
    }
    List<String> flags = new ArrayList<>();
    Matcher a = Pattern.compile("<arg>(-XX:[^<]*)</arg>").matcher(e.group(1));
    while (a.find()) {
      flags.add(a.group(1));
    }
    return flags;
  }

  /** The DaemonSet's container env besides JAVA_TOOL_OPTIONS that the proxy's JVM reads. */
  private static final List<String> ENV_FROM_DAEMONSET = List.of("MALLOC_ARENA_MAX");

  /** The value of JAVA_TOOL_OPTIONS in the DaemonSet's container env. */
  static String javaToolOptions(Path daemonSet) throws IOException {
    String v = envValue(daemonSet, "JAVA_TOOL_OPTIONS");
    if (v == null) {
      throw new IllegalStateException("no JAVA_TOOL_OPTIONS in " + daemonSet);
    }
    return v;
  }

  /** The value of {@code name} in the DaemonSet's container env (a quoted value), or null. */
  static String envValue(Path daemonSet, String name) throws IOException {
    Matcher m =
        Pattern.compile("name: " + Pattern.quote(name) + "\\s+value: \"([^\"]*)\"")
            .matcher(Files.readString(daemonSet));
    return m.find() ? m.group(1) : null;
  }

  private static Process startAgent(Path dir, Path java, Path jar, Path unit) throws Exception {
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 64, 8);
    List<String> agent = new ArrayList<>(List.of(java.toString()));
    agent.addAll(AgentMemoryBench.unitFlags(unit, dir));
    agent.addAll(
        List.of(
            "-jar",
            jar.toString(),
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
            dir.resolve("none.json").toString()));
    List<String> init = new ArrayList<>(agent);
    init.addAll(List.of("init", "--version", "1"));
    Process i = new ProcessBuilder(init).inheritIO().start();
    if (i.waitFor() != 0) {
      throw new IllegalStateException("agent init failed");
    }
    Path socket = dir.resolve("run/agent.sock");
    Files.createDirectories(socket.getParent());
    agent.addAll(List.of("serve", "--socket", socket.toString()));
    Process p =
        new ProcessBuilder(agent)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("agent.log").toFile())
            .start();
    JsonRpcClient rpc = new JsonRpcClient(socket, Duration.ofSeconds(5));
    while (true) {
      try {
        rpc.call("status");
        return p;
      } catch (RuntimeException notYet) {
        if (!p.isAlive()) {
          throw new IllegalStateException(
              "agent exited: " + Files.readString(dir.resolve("agent.log")));
        }
        Thread.sleep(50);
      }
    }
  }

  /** Thread names of the process with their CPU time, busiest first. */
  private static String threads(long pid) throws IOException {
    List<String> out = new ArrayList<>();
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          long ticks = ProcStats.ticks(stat);
          out.add(String.format("%06d %s=%.2fs", ticks, name, ticks / 100.0));
        } catch (IOException gone) {
          // thread ended meanwhile
        }
      }
    }
    out.sort(java.util.Comparator.reverseOrder());
    return out.size()
        + ": "
        + String.join(
            ", ",
            out.stream().map(s -> s.substring(7)).toList().subList(0, Math.min(12, out.size())));
  }
}
