package dev.kubeos.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One disk booted by real OVMF + GRUB under QEMU (TCG, no network). Each {@link #boot} runs until
 * the guest powers off or reboots ({@code -no-reboot}); the UEFI variables persist across boots
 * like a machine's NVRAM. An optional second disk carries the job for the boot.
 */
final class QemuGuest {
  static final Path OVMF_CODE = Path.of("/usr/share/OVMF/OVMF_CODE_4M.fd");
  static final Path OVMF_VARS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd");

  private final Path disk;
  private final Path vars;
  private final Path logDir;
  private int boots;

  QemuGuest(Path disk, Path workDir, Path logDir) throws IOException {
    this.disk = disk;
    this.logDir = logDir;
    this.vars = workDir.resolve("vars.fd");
    Files.copy(OVMF_VARS, vars);
  }

  /** Boots once; returns the serial console output. */
  String boot(Path jobDisk, int timeoutSeconds) throws IOException, InterruptedException {
    Path log = logDir.resolve("boot-" + (++boots) + ".log");
    Files.deleteIfExists(log);
    List<String> argv =
        new ArrayList<>(
            List.of(
                "qemu-system-x86_64",
                "-machine",
                "q35",
                "-accel",
                "tcg",
                "-smp",
                "2",
                "-m",
                "1024",
                "-nographic",
                "-monitor",
                "none",
                "-serial",
                "stdio",
                "-no-reboot",
                "-nic",
                "none",
                "-drive",
                "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                "-drive",
                "if=pflash,format=raw,unit=1,file=" + vars,
                "-drive",
                "file=" + disk + ",format=raw,if=virtio"));
    if (jobDisk != null) {
      argv.addAll(List.of("-drive", "file=" + jobDisk + ",format=raw,if=virtio,readonly=on"));
    }
    Process p =
        new ProcessBuilder(argv)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError(
          "boot " + boots + " did not finish in " + timeoutSeconds + " s; console: " + log);
    }
    return Files.readString(log).replace("\r", "");
  }

  /** The value after {@code E2E-<key> } on the console, or null. */
  static String line(String console, String key) {
    Matcher m = Pattern.compile("E2E-" + key + " ([^\\n]*)").matcher(console);
    return m.find() ? m.group(1).strip() : null;
  }
}
