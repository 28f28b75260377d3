package dev.kubeos.agent.port;

import java.io.IOException;

/** Restarts the node. */
public interface Rebooter {
  void reboot(String reason) throws IOException;
}
