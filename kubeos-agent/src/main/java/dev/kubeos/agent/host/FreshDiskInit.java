package dev.kubeos.agent.host;

import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;

/**
 * The agent's first {@code init} of a disk that is not running yet (an image being built): slot A
 * is the booted slot, the boot env blocks go into an ESP tree and the state into a state directory,
 * and no lock file is left behind. The image builder calls it through its own port (kubeos-cli
 * wires {@code new FreshDiskInit(clock)::init} in).
 */
public final class FreshDiskInit {
  private final Clock clock;

  public FreshDiskInit(Clock clock) {
    this.clock = clock;
  }

  /** Records slot A of {@code disk} as holding {@code version} (digest {@code slotASha256}). */
  public void init(Path disk, Path espDir, Path stateDir, String version, String slotASha256)
      throws IOException {
    HostAgents.create(new AgentOptions(disk, espDir, stateDir, Slot.A, null, null), clock)
        .init(version, slotASha256);
    Files.deleteIfExists(stateDir.resolve("agent.lock"));
  }
}
