package dev.kubeos.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the image the build made (target/kubeos-image.tar, Jib's OCI layout) under runc, Debian's
 * OCI runtime: the layers are unpacked into a bundle by this test (no umoci in Debian 12), the
 * runtime config is written from the image config (entrypoint, user, env, working dir), and the
 * container gets its own network namespace with nothing in it.
 */
class ContainerImageIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path RUNC = Path.of("/usr/sbin/runc");

  @TempDir static Path work;
  static Path blobs;
  static JsonNode imageConfig;
  static Path rootfs;

  @BeforeAll
  static void unpackImage() throws Exception {
    Path tar = Path.of(System.getProperty("kubeos.image.tar", "target/kubeos-image.tar"));
    assertThat(tar).as("the image tarball (jib:buildTar at package)").isRegularFile();
    Path layout = work.resolve("layout");
    untar(Files.newInputStream(tar), layout, false);
    blobs = layout.resolve("blobs/sha256");

    JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
    JsonNode ref = index.path("manifests").get(0);
    assertThat(ref.path("annotations").path("org.opencontainers.image.ref.name").asText())
        .isEqualTo(System.getProperty("kubeos.image"));
    String manifestDigest = ref.path("digest").asText();
    assertThat(manifestDigest)
        .as("the digest Jib reported is the manifest's")
        .isEqualTo(Files.readString(Path.of(System.getProperty("kubeos.image.digest"))).trim());
    JsonNode manifest = JSON.readTree(blob(manifestDigest));
    imageConfig = JSON.readTree(blob(manifest.path("config").path("digest").asText()));

    rootfs = work.resolve("bundle/rootfs");
    Files.createDirectories(rootfs);
    for (JsonNode layer : manifest.path("layers")) {
      assertThat(layer.path("mediaType").asText()).endsWith("tar+gzip");
      untar(
          new GZIPInputStream(Files.newInputStream(blobPath(layer.path("digest").asText()))),
          rootfs,
          true);
    }
  }

  @Test
  void imageConfigRunsTheCliAsUser65532() {
    JsonNode c = imageConfig.path("config");
    assertThat(c.path("User").asText()).isEqualTo("65532:65532");
    assertThat(JSON.convertValue(c.path("Entrypoint"), List.class))
        .startsWith("/opt/java/bin/java")
        .endsWith("dev.kubeos.cli.Main");
    assertThat(imageConfig.path("created").asText()).startsWith("1970-01-01T00:00:00");
    // distroless: a Java runtime and libraries, no shell and no package manager
    assertThat(rootfs.resolve("bin/sh")).doesNotExist();
    assertThat(rootfs.resolve("usr/bin")).doesNotExist();
    assertThat(rootfs.resolve("etc/ssl/certs/ca-certificates.crt")).isNotEmptyFile();
    assertThat(rootfs.resolve("usr/share/zoneinfo/Europe/Berlin")).isRegularFile();
    assertThat(rootfs.resolve("var/lib/dpkg/status.d"))
        .isDirectoryContaining(p -> p.getFileName().toString().equals("libc6"))
        .isDirectoryContaining(p -> p.getFileName().toString().equals("openjdk-17-jre-headless"));
  }

  @Test
  void versionFromTheContainer() throws Exception {
    Run run = runInContainer("version", "--version");
    assertThat(run.exit).as(run.toString()).isZero();
    assertThat(run.stdout.trim()).isEqualTo("kubeos " + System.getProperty("kubeos.version"));
  }

  @Test
  void operatorHelpFromTheContainer() throws Exception {
    Run run = runInContainer("operator-help", "operator", "--help");
    assertThat(run.exit).as(run.toString()).isZero();
    assertThat(run.stdout)
        .contains("Usage: kubeos operator")
        .contains("--lease-namespace")
        .contains("--metrics-port");
  }

  /**
   * The proxy with the DaemonSet's JVM options (deploy/proxy/daemonset.yaml, among them flags that
   * not every JDK has): the image's runtime must accept every one of them, or no proxy pod starts.
   */
  @Test
  void proxyHelpFromTheContainerWithTheDaemonSetsJvmOptions() throws Exception {
    Path daemonSet =
        Path.of(System.getProperty("kubeos.deploy", "../deploy"), "proxy", "daemonset.yaml");
    io.fabric8.kubernetes.api.model.apps.DaemonSet ds =
        new io.fabric8.kubernetes.client.utils.KubernetesSerialization()
            .unmarshal(
                Files.readString(daemonSet), io.fabric8.kubernetes.api.model.apps.DaemonSet.class);
    String opts =
        ds.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
            .filter(e -> e.getName().equals("JAVA_TOOL_OPTIONS"))
            .findFirst()
            .orElseThrow()
            .getValue();
    Run run =
        runInContainer(
            "proxy-help",
            new Spec(
                List.of("proxy", "--help"),
                true,
                Map.of(),
                List.of("JAVA_TOOL_OPTIONS=" + opts, "MALLOC_ARENA_MAX=2")));
    assertThat(run.exit).as(run.toString()).isZero();
    assertThat(run.stderr).as(run.toString()).contains("Picked up JAVA_TOOL_OPTIONS: " + opts);
    assertThat(run.stdout).contains("Usage: kubeos proxy").contains("--socket");
  }

  /**
   * Proves the runtime's module list with the real workload: {@code kubeos operator} from the image
   * talks TLS to an API server (fabric8's mock server in CRUD mode with https, on 127.0.0.1; the
   * container shares the host's network namespace for that), wins the leader-election Lease, runs a
   * reconcile pass and serves Prometheus metrics (jdk.httpserver).
   */
  @Test
  void operatorFromTheImageLeadsOverTlsAndServesMetrics() throws Exception {
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            true);
    server.init(InetAddress.getLoopbackAddress(), 0);
    Path out = work.resolve("operator.out");
    Path err = work.resolve("operator.err");
    Process p = null;
    try (KubernetesClient client = server.createClient()) {
      for (String f : new String[] {"os", "osinstances"}) {
        Path crd = Path.of("..", "deploy", "crds", f + ".upgrade.openeuler.org-v1.yml");
        client.apiextensions().v1().customResourceDefinitions().load(crd.toFile()).create();
      }
      assertThat(server.url("/")).startsWith("https://");
      Path kube = work.resolve("kube");
      Files.createDirectories(kube);
      Files.writeString(
          kube.resolve("config"),
          String.join(
              "\n",
              "apiVersion: v1",
              "kind: Config",
              "clusters:",
              "- name: mock",
              "  cluster:",
              "    server: " + server.url("/").replaceAll("/$", ""),
              "    insecure-skip-tls-verify: true",
              "users:",
              "- name: operator",
              "  user:",
              "    token: not-checked",
              "contexts:",
              "- name: mock",
              "  context: {cluster: mock, user: operator}",
              "current-context: mock",
              ""));
      Files.setPosixFilePermissions(kube, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.setPosixFilePermissions(
          kube.resolve("config"), PosixFilePermissions.fromString("rw-r--r--"));
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      Spec spec =
          new Spec(
              List.of(
                  "operator",
                  "--kubeconfig",
                  "/kube/config",
                  "--lease-namespace",
                  "kubeos-system",
                  "--metrics-address",
                  "127.0.0.1",
                  "--metrics-port",
                  Integer.toString(port)),
              false,
              Map.of(kube, "/kube"),
              List.of("POD_NAME=operator-in-image"));
      Process running = startContainer("operator", spec, out, err);
      p = running;
      HttpClient http = HttpClient.newHttpClient();
      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(500))
          .failFast("the operator exited", () -> !running.isAlive())
          .untilAsserted(
              () -> {
                Lease lease =
                    client
                        .resources(Lease.class)
                        .inNamespace("kubeos-system")
                        .withName("kubeos-operator")
                        .get();
                assertThat(lease).isNotNull();
                assertThat(lease.getSpec().getHolderIdentity()).isEqualTo("operator-in-image");
                HttpResponse<String> metrics =
                    http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(metrics.statusCode()).isEqualTo(200);
                assertThat(metrics.body()).contains("kubeos_reconcile_duration");
              });
      // every request the operator made is one its RBAC grants (the test's own Lease reads are
      // among them, and are granted too); the Lease renewals prove its verb
      Set<String> observed = new TreeSet<>();
      for (RecordedRequest r; (r = server.takeRequest(200, TimeUnit.MILLISECONDS)) != null; ) {
        if (!r.getPath().startsWith("/apis/apiextensions.k8s.io/")) { // the test's CRD setup
          observed.add(rbacCall(r.getMethod(), r.getPath()));
        }
      }
      assertThat(DeployManifestsTest.OPERATOR_CALLS).containsAll(observed);
      assertThat(observed)
          .contains(
              "kubeos-system|coordination.k8s.io|leases#kubeos-operator|patch",
              "cluster|upgrade.openeuler.org|os|watch",
              "cluster||nodes|watch",
              "cluster||pods|watch",
              "cluster|upgrade.openeuler.org|osinstances|watch");
    } catch (org.awaitility.core.ConditionTimeoutException
        | org.awaitility.core.TerminalFailureException e) {
      throw new AssertionError(e.getMessage() + "\noperator stderr:\n" + Files.readString(err), e);
    } finally {
      if (p != null) {
        stopContainer("operator", p);
      }
      server.destroy();
    }
  }

  /**
   * An API request in the notation of {@link DeployManifestsTest}'s call lists: {@code
   * scope|apiGroup|resource[/subresource][#name]|verb}, with the verb RBAC checks (GET of a
   * collection is list, with watch=true watch). Leases are granted by a Role in their namespace,
   * everything else by a ClusterRole.
   */
  static String rbacCall(String method, String pathAndQuery) {
    URI u = URI.create(pathAndQuery);
    String query = u.getQuery() == null ? "" : u.getQuery();
    List<String> seg = List.of(u.getPath().substring(1).split("/"));
    String group = seg.get(0).equals("api") ? "" : seg.get(1);
    seg = seg.subList(seg.get(0).equals("api") ? 2 : 3, seg.size());
    String ns = null;
    if (seg.size() >= 3 && seg.get(0).equals("namespaces")) {
      ns = seg.get(1);
      seg = seg.subList(2, seg.size());
    }
    String name = seg.size() > 1 ? seg.get(1) : null;
    String resource = seg.get(0) + (seg.size() > 2 ? "/" + seg.get(2) : "");
    String verb =
        switch (method) {
          case "GET" -> name != null ? "get" : query.contains("watch=true") ? "watch" : "list";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> name != null ? "delete" : "deletecollection";
          default -> method.toLowerCase(java.util.Locale.ROOT);
        };
    if (seg.get(0).equals("leases")) {
      return ns + "|" + group + "|" + resource + (name == null ? "" : "#" + name) + "|" + verb;
    }
    return "cluster|" + group + "|" + resource + "|" + verb;
  }

  record Run(int exit, String stdout, String stderr) {}

  /**
   * What differs between the containers of these tests: arguments after the entrypoint, whether the
   * container gets a network namespace of its own, read-only bind mounts (host dir to container
   * dir) and extra environment.
   */
  record Spec(List<String> args, boolean ownNetwork, Map<Path, String> binds, List<String> env) {
    static Spec of(String... args) {
      return new Spec(List.of(args), true, Map.of(), List.of());
    }
  }

  private static Run runInContainer(String id, String... args) throws Exception {
    return runInContainer(id, Spec.of(args));
  }

  private static Run runInContainer(String id, Spec spec) throws Exception {
    Path out = work.resolve(id + ".out");
    Path err = work.resolve(id + ".err");
    Process p = startContainer(id, spec, out, err);
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      stopContainer(id, p);
      throw new AssertionError("container did not exit within 180 s: " + Files.readString(err));
    }
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private static Process startContainer(String id, Spec spec, Path out, Path err)
      throws IOException {
    assumeTrue(
        "root".equals(System.getProperty("user.name")),
        "runc needs root here (CI and the e2e tier run as root)");
    assertThat(RUNC).as("runc: scripts/install-deps.sh installs it").isExecutable();
    Path bundle = rootfs.getParent();
    Files.writeString(bundle.resolve("config.json"), runtimeConfig(spec));
    Files.createDirectories(state());
    return new ProcessBuilder(
            RUNC.toString(),
            "--root",
            state().toString(),
            "run",
            "--bundle",
            bundle.toString(),
            containerName(id))
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(out.toFile())
        .redirectError(err.toFile())
        .start();
  }

  private static void stopContainer(String id, Process p) throws Exception {
    new ProcessBuilder(
            RUNC.toString(), "--root", state().toString(), "delete", "--force", containerName(id))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start()
        .waitFor(60, TimeUnit.SECONDS);
    p.destroyForcibly().waitFor(60, TimeUnit.SECONDS);
  }

  private static Path state() {
    return work.resolve("runc-state");
  }

  private static String containerName(String id) {
    return "kubeos-it-" + id + "-" + ProcessHandle.current().pid();
  }

  /** An OCI runtime config (spec 1.0) for the image: its entrypoint, user, env and workdir. */
  private static String runtimeConfig(Spec spec) throws IOException {
    JsonNode c = imageConfig.path("config");
    String[] user = c.path("User").asText().split(":");
    ObjectNode root = JSON.createObjectNode();
    root.put("ociVersion", "1.0.2");
    ObjectNode process = root.putObject("process");
    process.put("terminal", false);
    process
        .putObject("user")
        .put("uid", Integer.parseInt(user[0]))
        .put("gid", Integer.parseInt(user[1]));
    ArrayNode argv = process.putArray("args");
    c.path("Entrypoint").forEach(argv::add);
    spec.args().forEach(argv::add);
    ArrayNode env = process.putArray("env");
    c.path("Env").forEach(env::add);
    spec.env().forEach(env::add);
    process.put("cwd", c.path("WorkingDir").asText("/"));
    ObjectNode caps = process.putObject("capabilities");
    for (String set : List.of("bounding", "effective", "permitted", "inheritable", "ambient")) {
      caps.putArray(set);
    }
    process.put("noNewPrivileges", true);
    root.putObject("root").put("path", "rootfs").put("readonly", true);
    root.put("hostname", "kubeos-it");
    ArrayNode mounts = root.putArray("mounts");
    mount(mounts, "/proc", "proc", "proc", "nosuid", "noexec", "nodev");
    mount(mounts, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
    mount(mounts, "/tmp", "tmpfs", "tmpfs", "nosuid", "nodev", "mode=1777", "size=65536k");
    spec.binds()
        .forEach((host, dest) -> mount(mounts, dest, "bind", host.toString(), "rbind", "ro"));
    ObjectNode linux = root.putObject("linux");
    ArrayNode ns = linux.putArray("namespaces");
    // a network namespace of its own: only a loopback device that is down, so no egress;
    // without one the container shares the host's (the TLS test reaches 127.0.0.1 only)
    for (String type : List.of("pid", "network", "ipc", "uts", "mount")) {
      if (spec.ownNetwork() || !type.equals("network")) {
        ns.addObject().put("type", type);
      }
    }
    ArrayNode masked = linux.putArray("maskedPaths");
    List.of("/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware").forEach(masked::add);
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
  }

  private static void mount(
      ArrayNode mounts, String dest, String type, String source, String... options) {
    ObjectNode m =
        mounts.addObject().put("destination", dest).put("type", type).put("source", source);
    ArrayNode o = m.putArray("options");
    for (String opt : options) {
      o.add(opt);
    }
  }

  private static Path blobPath(String digest) throws IOException {
    assertThat(digest).startsWith("sha256:");
    Path p = blobs.resolve(digest.substring("sha256:".length()));
    try (InputStream in = Files.newInputStream(p)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      assertThat("sha256:" + HexFormat.of().formatHex(md.digest()))
          .as("blob content matches its digest")
          .isEqualTo(digest);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return p;
  }

  private static byte[] blob(String digest) throws IOException {
    return Files.readAllBytes(blobPath(digest));
  }

  /**
   * Unpacks a tar stream below {@code dir}: regular files and directories only (Jib writes no
   * links, devices or whiteouts, and the test would rather fail than guess), with the entry's
   * permission bits when {@code modes}.
   */
  private static void untar(InputStream raw, Path dir, boolean modes) throws IOException {
    Map<Path, Integer> dirModes = new TreeMap<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(raw)) {
      for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
        Path target = dir.resolve(e.getName()).normalize();
        assertThat(target.startsWith(dir)).as("entry inside the root: " + e.getName()).isTrue();
        assertThat(target.getFileName().toString()).doesNotStartWith(".wh.");
        if (e.isDirectory()) {
          Files.createDirectories(target);
          dirModes.put(target, e.getMode());
        } else if (e.isFile()) {
          Files.createDirectories(target.getParent());
          Files.copy(in, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          if (modes) {
            Files.setPosixFilePermissions(target, permissions(e.getMode()));
          }
        } else {
          throw new AssertionError("unexpected tar entry type: " + e.getName());
        }
      }
    }
    if (modes) {
      for (Map.Entry<Path, Integer> d : dirModes.entrySet()) {
        Files.setPosixFilePermissions(d.getKey(), permissions(d.getValue()));
      }
    }
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] bits = {
      PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
      PosixFilePermission.OWNER_READ
    };
    for (int i = 0; i < bits.length; i++) {
      if ((mode & (1 << i)) != 0) {
        s.add(bits[i]);
      }
    }
    return s;
  }
}
