package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kubeos.image.build.OsCustomizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkout launcher {@code ./kubeos} chooses the JVM and its flags: {@code agent} commands on
 * the agent daemon's jlink'd runtime with the unit's flags (as the node's {@code /usr/bin/kubeos}),
 * java from PATH otherwise or when that runtime is missing or lacks a module, C1 only for commands
 * that hash nothing. Runs the real script in a copy of the checkout's layout whose {@code java}s
 * only print how they were called (the jars are empty files: nothing is built or run).
 */
class LauncherIT {
  private static final Path REPO = Path.of("..");
  private static final String C1 = "-XX:TieredStopAtLevel=1";

  @TempDir Path co;
  private Path bin;
  private Path runtime;
  private String unitFlags;

  private record Result(int status, String out, String err) {}

  @BeforeEach
  void checkout() throws IOException {
    copy("kubeos", 0755);
    copy("scripts/agent-runtime.modules", 0644);
    copy("deploy/systemd/kubeos-agent.service", 0644);
    script("scripts/install-deps.sh", "exit 0");
    Files.createDirectories(co.resolve("kubeos-cli/target"));
    Files.writeString(co.resolve("kubeos-cli/target/kubeos.jar"), "");
    Files.writeString(co.resolve("kubeos-cli/target/kubeos-agent.jar"), "");
    runtime = co.resolve("kubeos-cli/target/agent-runtime");
    script("kubeos-cli/target/agent-runtime/bin/java", "echo \"runtime-java $*\"");
    Files.createDirectories(runtime.resolve("lib/server"));
    Files.writeString(runtime.resolve("lib/server/classes.jsa"), "the JDK's CDS archive");
    release(modules());
    bin = co.resolve("path-bin");
    script(
        "path-bin/java",
        "if [ \"$1\" = -version ]; then echo 'openjdk version \"17.0.99\"' >&2; exit 0; fi\n"
            + "echo \"path-java $*\"");
    unitFlags =
        String.join(
            " ",
            OsCustomizer.nodeCommandFlags(
                Files.readString(REPO.resolve("deploy/systemd/kubeos-agent.service"))));
  }

  @Test
  void agentStageRunsOnTheDaemonsRuntimeWithTheUnitsFlagsAndTheTieredJit() throws Exception {
    Result r = launch(Map.of(), "agent", "--disk", "d.img", "stage", "--url", "http://h/p.img");
    assertThat(r.out().strip())
        .isEqualTo(
            "runtime-java "
                + unitFlags
                + " "
                + cds("stage")
                + " -jar "
                + co.resolve("kubeos-cli/target/kubeos-agent.jar")
                + " agent --disk d.img stage --url http://h/p.img");
    assertThat(r.out()).doesNotContain("TieredStopAtLevel", "agent-%w.jsa");
    assertThat(unitFlags).contains("-XX:+UseSerialGC", "-Xmx");
    assertThat(r.err()).isEmpty();
    assertThat(launch(Map.of(), "agent", "serve").out())
        .startsWith("runtime-java " + unitFlags + " " + cds("serve") + " -jar ");
  }

  @Test
  void quickAgentCommandsRunOnTheSameRuntimeOnC1() throws Exception {
    assertThat(launch(Map.of(), "agent", "status", "--json").out().strip())
        .isEqualTo(
            "runtime-java "
                + unitFlags
                + " "
                + C1
                + " "
                + cds("other")
                + " -jar "
                + co.resolve("kubeos-cli/target/kubeos-agent.jar")
                + " agent status --json");
    // a help text makes no archive: the stage's would then hold the classes of --help only
    assertThat(launch(Map.of(), "agent", "stage", "--help").out())
        .startsWith("runtime-java " + unitFlags + " " + C1 + " -jar ");
  }

  @Test
  void anArchiveIsNamedForItsJarAndRuntimeAndOnlyAUsableOneIsKept() throws Exception {
    Path dir = Files.createDirectories(co.resolve("kubeos-cli/target/agent-cds"));
    String current = cds("stage").replaceFirst(".*SharedArchiveFile=(\\S+).*", "$1");
    assertThat(current).startsWith(dir + "/stage-").endsWith(".jsa");
    // an archive of this build: the first bytes of a dynamic CDS archive (its magic, little-endian)
    Files.write(Path.of(current), new byte[] {(byte) 0xa8, (byte) 0xab, 0x0b, (byte) 0xf0, 1});
    // one of an older jar: the JVM would refuse it with an error on every start
    Path older = Files.write(dir.resolve("stage-1-2-3-4.jsa"), new byte[] {1});
    Path otherKind = Files.write(dir.resolve("other-1-2-3-4.jsa"), new byte[] {1});
    assertThat(launch(Map.of(), "agent", "stage").out()).contains(cds("stage"));
    assertThat(Path.of(current)).exists();
    assertThat(older).doesNotExist();
    assertThat(otherKind).exists();
    // what a dump killed before it wrote its header leaves: the JVM would warn on every start
    Files.write(Path.of(current), new byte[4096]);
    assertThat(launch(Map.of(), "agent", "stage").out()).contains(cds("stage"));
    assertThat(Path.of(current)).doesNotExist();
    // a new build of the jar: a new name
    Files.setLastModifiedTime(
        co.resolve("kubeos-cli/target/kubeos-agent.jar"), FileTime.fromMillis(1_000_000_000_000L));
    assertThat(cds("stage")).doesNotContain(current);
  }

  @Test
  void aJdk17RuntimeOrOneWithoutItsOwnArchiveGetsNoArchiveFlags() throws Exception {
    String plain =
        "runtime-java "
            + unitFlags
            + " -jar "
            + co.resolve("kubeos-cli/target/kubeos-agent.jar")
            + " agent stage";
    Files.delete(runtime.resolve("lib/server/classes.jsa"));
    assertThat(launch(Map.of(), "agent", "stage").out().strip()).isEqualTo(plain);
    Files.writeString(runtime.resolve("lib/server/classes.jsa"), "the JDK's CDS archive");
    Files.writeString(
        runtime.resolve("release"),
        Files.readString(runtime.resolve("release")).replace("25.0.3", "17.0.15"));
    assertThat(launch(Map.of(), "agent", "stage").out().strip()).isEqualTo(plain);
  }

  @Test
  void otherCommandsRunTheFullJarOnJavaFromPath() throws Exception {
    String jar = " -jar " + co.resolve("kubeos-cli/target/kubeos.jar");
    assertThat(launch(Map.of(), "plan", "-f", "os.yaml").out().strip())
        .isEqualTo("path-java -XX:+UseSerialGC " + C1 + " -Xshare:auto" + jar + " plan -f os.yaml");
    assertThat(launch(Map.of(), "--help").out()).contains(C1).contains(jar);
    assertThat(launch(Map.of(), "image", "build", "k.toml").out().strip())
        .isEqualTo("path-java -XX:+UseSerialGC -Xshare:auto" + jar + " image build k.toml");
  }

  @Test
  void withoutARuntimeAgentCommandsFallBackToJavaFromPathAndAStageSaysSo() throws Exception {
    deleteRecursively(runtime);
    Result stage = launch(Map.of(), "agent", "stage", "--url", "http://h/p.img");
    assertThat(stage.out().strip())
        .isEqualTo(
            "path-java -XX:+UseSerialGC -Xshare:auto -jar "
                + co.resolve("kubeos-cli/target/kubeos.jar")
                + " agent stage --url http://h/p.img");
    assertThat(stage.err().lines())
        .singleElement()
        .asString()
        .contains("java from PATH", "17.0.99", "scripts/build-agent-runtime.sh");
    Result status = launch(Map.of(), "agent", "status");
    assertThat(status.out()).startsWith("path-java -XX:+UseSerialGC " + C1);
    assertThat(status.err()).isEmpty();
  }

  @Test
  void aRuntimeWithoutEveryModuleIsNotUsed() throws Exception {
    List<String> fewer = new ArrayList<>(modules());
    assertThat(fewer.remove("jdk.httpserver")).isTrue();
    release(fewer);
    Result r = launch(Map.of(), "agent", "status");
    assertThat(r.out()).startsWith("path-java ");
    assertThat(r.err().lines())
        .singleElement()
        .asString()
        .contains("lacks the module jdk.httpserver");
    release(List.of()); // a release file that names no module
    assertThat(launch(Map.of(), "agent", "stage").out()).startsWith("path-java ");
  }

  @Test
  void kubeosJavaOptsReplaceTheFlagsOnEitherJava() throws Exception {
    Map<String, String> env = Map.of("KUBEOS_JAVA_OPTS", "-Xmx1g -Dx=y");
    assertThat(launch(env, "agent", "stage").out())
        .startsWith("runtime-java -Xmx1g -Dx=y -jar ")
        .endsWith("kubeos-agent.jar agent stage\n");
    assertThat(launch(env, "plan").out()).startsWith("path-java -Xmx1g -Dx=y -jar ");
  }

  @Test
  void theClusterDemoRunsClusterE2EsScenarioOneThroughMavenAndTakesNoOtherOption()
      throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "the QEMU demos need root");
    script("mvnw", "echo \"mvnw $* KUBEOS_E2E=$KUBEOS_E2E\"");
    Result r = launch(Map.of(), "demo", "--cluster");
    List<String> calls = r.out().strip().lines().toList();
    assertThat(calls).hasSize(2);
    // first the operator/proxy image, which the guests' containerd runs the proxies from
    assertThat(calls.get(0))
        .startsWith("mvnw -q -B -ntp package -DskipTests ")
        .contains(" -pl kubeos-container -am");
    assertThat(calls.get(1))
        .startsWith("mvnw -q -B -ntp verify -Pe2e -pl kubeos-cli -am ")
        .contains(" -Dtest=none ", " -DskipITs ", " -Dit.test=ClusterE2E ")
        .endsWith(" -Dkubeos.e2e.demo=true KUBEOS_E2E=required");
    assertThat(r.err()).contains("ClusterE2E's scenario 1");

    Result mixed = run(Map.of(), "demo", "--cluster", "--quick");
    assertThat(mixed.status()).isEqualTo(2);
    assertThat(mixed.err()).contains("--cluster takes no other options");
    assertThat(mixed.out()).isEmpty();
  }

  private List<String> modules() throws IOException {
    String text = Files.readString(REPO.resolve("scripts/agent-runtime.modules"));
    List<String> out = new ArrayList<>();
    for (String line : text.lines().toList()) {
      if (!line.startsWith("#") && !line.isBlank()) {
        out.addAll(List.of(line.strip().split(",")));
      }
    }
    assertThat(out).contains("java.base", "java.net.http");
    return out;
  }

  /**
   * The launcher's CDS flags for one kind of agent command on a JDK 19+ runtime: the archive is
   * named for the jar's and the runtime's CDS archive's size and time.
   */
  private String cds(String kind) throws IOException {
    StringBuilder id = new StringBuilder();
    for (Path f :
        List.of(
            co.resolve("kubeos-cli/target/kubeos-agent.jar"),
            runtime.resolve("lib/server/classes.jsa"))) {
      id.append(id.isEmpty() ? "" : "-")
          .append(Files.size(f))
          .append('-')
          .append(Files.getLastModifiedTime(f).to(TimeUnit.SECONDS));
    }
    return "-XX:+AutoCreateSharedArchive -XX:SharedArchiveFile="
        + co.resolve("kubeos-cli/target/agent-cds/" + kind + "-" + id + ".jsa")
        + " -Xlog:cds=off";
  }

  /** The runtime's release file as jlink writes it: modules separated by spaces. */
  private void release(List<String> modules) throws IOException {
    Files.writeString(
        runtime.resolve("release"),
        "JAVA_VERSION=\"25.0.3\"\nMODULES=\""
            + String.join(" ", modules)
            + (modules.isEmpty() ? "" : " java.xml")
            + "\"\n");
  }

  private Result launch(Map<String, String> env, String... args) throws Exception {
    Result r = run(env, args);
    assertThat(r.status()).as("exit status; stderr: %s", r.err()).isZero();
    return r;
  }

  private Result run(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bash", co.resolve("kubeos").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().remove("KUBEOS_JAVA_OPTS");
    pb.environment().put("PATH", bin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    CompletableFuture<byte[]> err =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return p.getErrorStream().readAllBytes();
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int status = p.waitFor();
    return new Result(status, out, new String(err.get(), StandardCharsets.UTF_8));
  }

  private void copy(String path, int mode) throws IOException {
    Path to = co.resolve(path);
    Files.createDirectories(to.getParent());
    Files.copy(REPO.resolve(path), to, StandardCopyOption.REPLACE_EXISTING);
    chmod(to, mode);
  }

  private void script(String path, String body) throws IOException {
    Path to = co.resolve(path);
    Files.createDirectories(to.getParent());
    Files.writeString(to, "#!/bin/sh\n" + body + "\n");
    chmod(to, 0755);
  }

  private static void chmod(Path p, int mode) throws IOException {
    StringBuilder s = new StringBuilder();
    String rwx = "rwx";
    for (int bit = 8; bit >= 0; bit--) {
      s.append((mode & (1 << bit)) != 0 ? rwx.charAt(2 - bit % 3) : '-');
    }
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(s.toString()));
  }

  private static void deleteRecursively(Path p) throws IOException {
    try (var walk = Files.walk(p)) {
      for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
