package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.boot.FileBootEnvStore;
import dev.kubeos.api.agent.Slot;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code kubeos agent configure} on a temp root: dry run, apply, no change, revert, errors. */
class ConfigureCommandIT {
  @TempDir Path dir;
  Path root;
  Path request;
  Path boot;
  String out;
  String err;

  @BeforeEach
  void setUp() throws Exception {
    root = dir.resolve("root");
    boot = dir.resolve("boot");
    Files.createDirectories(root.resolve("etc"));
    Files.createDirectories(boot);
    new BootEnv(new FileBootEnvStore(boot)).initialize(Slot.A);
    Files.writeString(root.resolve("etc/sysctl.conf"), "# image\nvm.swappiness = 10\n");
    request = dir.resolve("request.json");
    Files.writeString(
        request,
        "{\"version\": \"v1\", \"configs\": ["
            + "{\"model\": \"kernel.sysctl.persist\", \"contents\": [{\"key\": \"vm.swappiness\","
            + " \"value\": 1}]},"
            + "{\"model\": \"grub.cmdline.current\", \"contents\": [{\"key\": \"quiet\"}]}]}");
  }

  private int run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    cl.setOut(new PrintWriter(o));
    cl.setErr(new PrintWriter(e));
    String[] all = new String[args.length + 8];
    String[] global = {
      "agent",
      "--state-dir",
      dir.resolve("state").toString(),
      "--boot-dir",
      boot.toString(),
      "--booted-slot",
      "A"
    };
    System.arraycopy(global, 0, all, 0, 7);
    all[7] = "configure";
    System.arraycopy(args, 0, all, 8, args.length);
    int code = cl.execute(all);
    out = o.toString();
    err = e.toString();
    return code;
  }

  private String sysctl() throws Exception {
    return Files.readString(root.resolve("etc/sysctl.conf"));
  }

  @Test
  void dryRunApplyNoChangeAndRevert() throws Exception {
    String file = request.toString();
    String r = root.toString();

    assertThat(run("--file", file, "--root", r, "--dry-run")).isZero();
    assertThat(out)
        .contains("kernel.sysctl.persist /etc/sysctl.conf: would change")
        .contains("-vm.swappiness = 10\n+vm.swappiness = 1\n")
        .contains("+quiet\n")
        .contains("settings v1: dry run, nothing changed");
    assertThat(sysctl()).isEqualTo("# image\nvm.swappiness = 10\n");

    assertThat(run("--file", file, "--root", r)).isZero();
    assertThat(out).contains("/etc/sysctl.conf: changed").contains("settings v1: applied");
    assertThat(sysctl()).isEqualTo("# image\nvm.swappiness = 1\n");

    assertThat(run("--file", file, "--root", r)).isZero();
    assertThat(out).contains("/etc/sysctl.conf: no change").contains("settings v1: no change");

    assertThat(run("--revert", "v1", "--root", r)).isZero();
    assertThat(out).contains("revert of settings v1: applied");
    assertThat(sysctl()).isEqualTo("# image\nvm.swappiness = 10\n");
    assertThat(new BootEnv(new FileBootEnvStore(boot)).read().orElseThrow().cmdline().get(Slot.A))
        .isEmpty();
  }

  @Test
  void anInvalidRequestExitsWithTheInvalidRequestStatus() throws Exception {
    Files.writeString(
        request,
        "{\"version\": \"v1\", \"configs\": [{\"model\": \"kernel.sysctl.persist\","
            + " \"configpath\": \"/usr/x.conf\", \"contents\": []}]}");
    assertThat(run("--file", request.toString(), "--root", root.toString())).isEqualTo(2);
    assertThat(err).contains("outside the allowed directories");
    assertThat(run("--root", root.toString())).isEqualTo(2);
  }
}
