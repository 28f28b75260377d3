package dev.kubeos.cli;

import dev.kubeos.cli.demo.FileBackedDemo;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kubeos demo}: the agent moving a file-backed node from v1 to v2, step by step. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Build a file-backed GPT disk (ESP, ROOT-A with v1, ROOT-B, PERSIST), serve a v2 root",
      "file-system image from a loopback HTTP server, and move the disk to v2 with the real agent:",
      "init, stage, activate, the bootloader's selection, health + commit, status. Timed per step."
    })
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--work-dir",
      paramLabel = "DIR",
      defaultValue = ".work/demo",
      description =
          "Where the disk image and payloads go; emptied first (default: ${DEFAULT-VALUE}).")
  Path workDir;

  @Override
  public Integer call() throws Exception {
    return new FileBackedDemo(workDir, System.out).run();
  }
}
