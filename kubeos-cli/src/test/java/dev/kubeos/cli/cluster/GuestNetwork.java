package dev.kubeos.cli.cluster;

import dev.kubeos.cli.demo.Host;
import java.util.ArrayList;
import java.util.List;

/**
 * A guest's network that stays on this machine: QEMU user-mode networking with {@code restrict=on}
 * (the guest reaches nothing but the forwards below; DHCP gives it 10.0.2.15) and one {@code
 * guestfwd} per host service. A forward makes {@code 10.0.2.100:GUEST_PORT} inside the guest run
 * {@code socat - TCP:127.0.0.1:HOST_PORT} on the host for each connection (the {@code cmd:} form:
 * the plain {@code tcp:} form is one connection opened at QEMU's start, so a client that connects
 * twice would not get through). No rule names any address but 127.0.0.1.
 */
final class GuestNetwork {
  /** The host's services as the guest sees them. */
  static final String HOST_ADDRESS = "10.0.2.100";

  /** {@code 10.0.2.100:guestPort} in the guest reaches {@code 127.0.0.1:hostPort}. */
  record Forward(int guestPort, int hostPort) {}

  private GuestNetwork() {}

  /** What this host lacks for the forwards (apt package names), empty when nothing. */
  static List<String> missingPackages() {
    return Host.which("socat") == null ? List.of("socat") : List.of();
  }

  /** The QEMU arguments: one restricted user-mode NIC (virtio) with the forwards. */
  static List<String> qemuArgs(List<Forward> forwards) {
    StringBuilder netdev = new StringBuilder("user,id=n0,restrict=on");
    for (Forward f : forwards) {
      netdev
          .append(",guestfwd=tcp:")
          .append(HOST_ADDRESS)
          .append(':')
          .append(f.guestPort())
          .append("-cmd:socat - TCP:127.0.0.1:")
          .append(f.hostPort());
    }
    List<String> args = new ArrayList<>();
    args.addAll(List.of("-netdev", netdev.toString(), "-device", "virtio-net-pci,netdev=n0"));
    return args;
  }
}
