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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Idle cost of the node proxy: fabric8's mock API server in CRUD mode with the project's CRDs, one
 * Node, a real agent daemon (the systemd unit's flags) on a GPT disk image, and {@code kubeos
 * proxy} for that node as a separate JVM whose {@code JAVA_TOOL_OPTIONS} are the DaemonSet's. After
 * the proxy registered its OSInstance, samples its RSS, CPU time and the API requests the mock
 * server received, every 10 s for the idle period; then changes the Node's labels a few times (an
 * event each) and samples again.
 */
public final class ProxyIdleBench {
  private static final String NODE = "node-1";

  public static void main(String[] args) throws Exception {
    Path jar = null;
    Path agentJava = null;
    Path agentJar = null;
    Path daemonSet = Path.of("deploy/proxy/daemonset.yaml");
    Path unit = Path.of("deploy/systemd/kubeos-agent.service");
    int idleSeconds = 180;
    int events = 5;
    String opts = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--jar" -> jar = Path.of(args[++i]);
        case "--agent-java" -> agentJava = Path.of(args[++i]);
        case "--agent-jar" -> agentJar = Path.of(args[++i]);
        case "--daemonset" -> daemonSet = Path.of(args[++i]);
        case "--idle-seconds" -> idleSeconds = Integer.parseInt(args[++i]);
        case "--events" -> events = Integer.parseInt(args[++i]);
        case "--java-tool-options" -> opts = args[++i];
        default ->
            throw new IllegalArgumentException(
                "usage: --jar kubeos.jar --agent-java JAVA --agent-jar AGENT.jar [--daemonset F]"
                    + " [--idle-seconds N] [--events N] [--java-tool-options OPTS]");
      }
    }
    if (opts == null) {
      opts = javaToolOptions(daemonSet);
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
      Path kubeconfig = dir.resolve("kubeconfig");
      Files.writeString(kubeconfig, kubeconfig(server.url("/").replaceAll("/$", "")));
      ProcessBuilder pb =
          new ProcessBuilder(
                  ProcessHandle.current().info().command().orElse("java"),
                  "-jar",
                  jar.toString(),
                  "proxy",
                  "--namespace",
                  "default",
                  "--socket",
                  dir.resolve("run/agent.sock").toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("proxy.log").toFile());
      pb.environment().put("KUBECONFIG", kubeconfig.toString());
      pb.environment().put("NODE_NAME", NODE);
      pb.environment().put("JAVA_TOOL_OPTIONS", opts.replace("/tmp", dir.toString()));
      System.out.printf(
          "%d cores, load %s; proxy: JAVA_TOOL_OPTIONS=\"%s\" java (%s) -jar %s proxy%n",
          Runtime.getRuntime().availableProcessors(),
          Files.readString(Path.of("/proc/loadavg")).trim(),
          opts,
          Runtime.version(),
          jar);
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

  private static Sample sample(long pid, KubernetesMockServer server) throws IOException {
    return new Sample(
        status(pid, "VmRSS:"), status(pid, "VmHWM:"), cpuSeconds(pid), server.getRequestCount());
  }

  private static void print(String phase, double t, Sample s) {
    System.out.printf(
        "| %s | %.0f | %.1f | %.1f | %.2f | %d |%n",
        phase, t, s.rssKiB() / 1024.0, s.hwmKiB() / 1024.0, s.cpu(), s.requests());
  }

  /** The value of JAVA_TOOL_OPTIONS in the DaemonSet's container env. */
  static String javaToolOptions(Path daemonSet) throws IOException {
    Matcher m =
        Pattern.compile("name: JAVA_TOOL_OPTIONS\\s+value: \"([^\"]*)\"")
            .matcher(Files.readString(daemonSet));
    if (!m.find()) {
      throw new IllegalStateException("no JAVA_TOOL_OPTIONS in " + daemonSet);
    }
    return m.group(1);
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

  private static String kubeconfig(String url) {
    return String.join(
        "\n",
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: mock",
        "  cluster:",
        "    server: " + url,
        "users:",
        "- name: proxy",
        "  user:",
        "    token: not-checked",
        "contexts:",
        "- name: mock",
        "  context:",
        "    cluster: mock",
        "    user: proxy",
        "current-context: mock",
        "");
  }

  private static long status(long pid, String key) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith(key)) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no " + key + " for " + pid);
  }

  private static double cpuSeconds(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  /** Thread names of the process with their CPU time, busiest first. */
  private static String threads(long pid) throws IOException {
    List<String> out = new ArrayList<>();
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
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
