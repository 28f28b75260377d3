package dev.kubeos.agent.host;

import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.Rebooter;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * Reboots through systemd so services stop cleanly and file systems are synced.
 *
 * @param commands runs {@code systemctl reboot}
 */
public record SystemdRebooter(CommandRunner commands) implements Rebooter {

  @Override
  public void reboot(String reason) throws IOException {
    System.getLogger("kubeos.agent").log(System.Logger.Level.WARNING, "rebooting: " + reason);
    CommandRunner.Result r = commands.run(List.of("systemctl", "reboot"), Duration.ofSeconds(30));
    if (!r.ok()) {
      throw new IOException("systemctl reboot failed (" + r.exitStatus() + "): " + r.output());
    }
  }
}
