package dev.kubeos.cli.demo;

import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The demo's reading of one boot's serial console: boot milestones (firmware, GRUB, kernel, init,
 * systemd, the health unit, the reboot and the guest's probe lines) and the job's own output are
 * printed as they appear; systemd's spinner and everything else only feed the heartbeat's "last
 * console line".
 */
final class DemoConsole implements QemuGuest.ConsoleListener {
  /** systemd's status line for the health unit (ellipsized to the console's width). */
  static final String HEALTH = "kubeos-health\\.ser";

  private static final Pattern SPINNER =
      Pattern.compile("\\] (A stop job|Job .*) is running|\\] Job .* running \\(");

  private static final Pattern MILESTONE =
      Pattern.compile(
          "BdsDxe: starting Boot|Welcome to GRUB|Linux version|Run /init as init process"
              + "|Welcome to |"
              + HEALTH
              + "|reboot: (Restarting|Power down)|PROBE-");

  private final String what;
  private final Consumer<String> say;
  private final long start = System.nanoTime();
  private volatile String last = "";
  private boolean inJob;

  /**
   * @param what the boot, for the heartbeat ("boot v1")
   * @param say prints a line of the demo's output
   */
  DemoConsole(String what, Consumer<String> say) {
    this.what = what;
    this.say = say;
  }

  @Override
  public void line(Duration at, String line) {
    if (!line.isBlank()) {
      last = clip(line.strip(), 100);
    }
    if (line.contains("PROBE-JOB")) {
      inJob = true;
    }
    if (SPINNER.matcher(line).find()) {
      return; // systemd's "A stop job is running" spinner, redrawn twice a second
    }
    if (MILESTONE.matcher(line).find()) {
      say.accept("    guest +" + secs(at) + "  " + clip(line.strip(), 140));
    } else if (inJob && !line.isBlank() && !line.startsWith("[") && !line.startsWith(" ")) {
      say.accept("    guest +" + secs(at) + "  | " + clip(line.strip(), 140));
    }
  }

  /** What the boot is doing, for the heartbeat. */
  String activity() {
    return what
        + ": "
        + secs(Duration.ofNanos(System.nanoTime() - start))
        + " since QEMU start; console: "
        + last;
  }

  static String secs(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }

  static String clip(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }
}
