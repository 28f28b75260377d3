package dev.kubeos.cli.demo;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;

/**
 * What the demo expects of the guest, read from each boot's console: the probe lines it must show
 * and the agent's status after each boot. A miss throws with the console log's path.
 */
final class GuestExpectations {
  private GuestExpectations() {}

  /**
   * The agent's status as boot 2 reports it: booted and default slot, the booted slot's version.
   */
  record Committed(String slot, String version, String defaultSlot) {}

  /** When {@code at} happened on {@code b}'s console; a line that never came is an error. */
  static Duration require(QemuGuest.Boot b, Duration at, String what) throws IOException {
    if (at == null) {
      throw new IOException(
          "boot " + b.number() + ": the console shows no " + what + "; console log: " + b.log());
    }
    return at;
  }

  /** Boot 1: the agent reports v1 (1.0.0) booted from slot A; returns its status. */
  static JsonNode v1OnSlotA(QemuGuest.Boot b1) throws IOException {
    JsonNode s1 = GuestJobs.status(b1.console());
    if (!"A".equals(s1.path("bootedSlot").asText())
        || !"1.0.0".equals(s1.path("slots").path("A").path("version").asText())) {
      throw new IllegalStateException(
          "expected v1 to boot from slot A = 1.0.0; the agent says "
              + s1.toString()
              + "; console: "
              + b1.log());
    }
    return s1;
  }

  /**
   * Boot 2: when the health check started. The health unit's start is on the console; its end is
   * not (the serial getty has taken over by then), but the probe runs right after it
   * (After=kubeos-health.service), so its first line, {@code healthEnd}, marks the end of the
   * health check and its commit; without the start line the start is that end.
   */
  static Duration healthStart(QemuGuest.Boot b2, Duration healthEnd) {
    Duration healthStart = b2.firstAt("Starting .*" + DemoConsole.HEALTH);
    return healthStart == null ? healthEnd : healthStart;
  }

  /** Boot 2: the guest runs v2 (2.0.0) from slot B, committed (default slot B). */
  static Committed v2CommittedOnSlotB(QemuGuest.Boot b2) throws IOException {
    JsonNode s2 = GuestJobs.status(b2.console());
    String slotAfter = s2.path("bootedSlot").asText();
    String defaultAfter = s2.path("defaultSlot").asText();
    String versionAfter = s2.path("slots").path(slotAfter).path("version").asText();
    if (!"B".equals(slotAfter) || !"B".equals(defaultAfter) || !"2.0.0".equals(versionAfter)) {
      throw new IllegalStateException(
          "expected the guest on slot B = 2.0.0, committed (default B); the agent says booted "
              + slotAfter
              + " = "
              + versionAfter
              + ", default "
              + defaultAfter
              + " (last failure: "
              + s2.path("lastFailure").asText("none")
              + "); console: "
              + b2.log());
    }
    return new Committed(slotAfter, versionAfter, defaultAfter);
  }

  /** Boot 2: the marker file written on PERSIST under v1 is still there; returns its text. */
  static String markerKept(QemuGuest.Boot b2) {
    String marker = b2.probe("MARKER");
    if (marker == null || !marker.startsWith("written under v1")) {
      throw new IllegalStateException(
          "the file written on PERSIST under v1 is not there under v2 (probe says: "
              + marker
              + "); console: "
              + b2.log());
    }
    return marker;
  }
}
