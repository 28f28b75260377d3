package dev.kubeos.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills the agent at every durable write of a whole life cycle (init, stage, activate, reboot,
 * health + commit, rollback, reboot) and tears every boot-env write at several byte offsets. After
 * each kill: the slot the bootloader starts next holds exactly the bytes recorded as verified for
 * it, and the node can still be brought to the new version.
 */
class AgentCrashIT {
  private static final String V2_URL = "memory://v2.img";
  private static final int[] TEAR_OFFSETS = {0, 1, 37, 511, 512, 513, 1023};

  static byte[] pristine;
  static byte[] v1 = random(1, 1 << 20);
  static byte[] v2 = random(2, (2 << 20) + 4096);

  @BeforeAll
  static void makeDisk(@TempDir Path dir) throws IOException {
    Path file = TestDisks.create(dir.resolve("disk.img"), 1, 4, 1);
    pristine = Files.readAllBytes(file);
  }

  @Test
  void everyKillPointLeavesAVerifiedNextBootAndARecoverableNode() throws IOException {
    List<String> points = new ArrayList<>();
    SimulatedNode reference = newNode();
    Crash never = new Crash(-1, -1);
    lifeCycle(reference, never);
    points.addAll(never.points());
    assertThat(reference.booted).isEqualTo(Slot.A);

    int clean = 0;
    int torn = 0;
    for (int k = 0; k < points.size(); k++) {
      check(k, -1, points);
      clean++;
      if (points.get(k).startsWith("boot env")) {
        for (int offset : TEAR_OFFSETS) {
          check(k, offset, points);
          torn++;
        }
      }
    }
    System.out.printf(
        "AgentCrashIT: %d kill points (%d clean kills, %d torn boot-env writes), all recovered%n",
        clean + torn, clean, torn);
    assertThat(clean).isGreaterThanOrEqualTo(12);
    assertThat(torn).isGreaterThanOrEqualTo(5 * TEAR_OFFSETS.length);
  }

  private void check(int killAt, int tornAt, List<String> points) throws IOException {
    SimulatedNode node = newNode();
    Crash crash = new Crash(killAt, tornAt);
    try {
      lifeCycle(node, crash);
    } catch (Crash.Killed | AgentException expected) {
      // the agent died here (a kill inside the staging pipeline's threads surfaces wrapped)
    }
    String where =
        "kill #"
            + killAt
            + " ("
            + points.get(killAt)
            + (tornAt >= 0 ? ", torn at " + tornAt : "")
            + ")";
    assertThat(crash.killed()).as(where).isTrue();
    assertNextBootIsVerified(node, where);
    converge(node, where);
  }

  private static void lifeCycle(SimulatedNode node, Crash crash) throws IOException {
    node.agent(crash).init("v1", SimulatedNode.sha256(v1));
    node.agent(crash).stage(v2Request(), ProgressListener.NONE);
    node.agent(crash).activate();
    node.powerCycle();
    node.agent(crash).health(true);
    node.agent(crash).rollback();
    node.powerCycle();
  }

  /** The bootloader's next choice holds exactly the bytes recorded as verified for it. */
  private static void assertNextBootIsVerified(SimulatedNode node, String where)
      throws IOException {
    Slot next = node.nextBoot();
    SlotStatus recorded = node.state().slot(next);
    if (recorded.state() == SlotState.EMPTY && next == Slot.A) {
      // init was not recorded yet: slot A still holds the factory image
      assertThat(node.slotDigest(Slot.A, v1.length)).as(where).isEqualTo(SimulatedNode.sha256(v1));
      return;
    }
    assertThat(recorded.state())
        .as(where + ": state of next boot slot " + next)
        .isEqualTo(SlotState.VERIFIED);
    byte[] content = "v1".equals(recorded.version()) ? v1 : v2;
    assertThat(node.slotDigest(next, content.length))
        .as(where + ": bytes of next boot slot " + next)
        .isEqualTo(recorded.sha256());
  }

  /** Drives the node (with a healthy agent) to "v2 in slot B, committed", as an operator would. */
  private static void converge(SimulatedNode node, String where) throws IOException {
    node.powerCycle();
    for (int step = 0; step < 12; step++) {
      Crash never = new Crash(-1, -1);
      Agent agent = node.agent(never);
      if (new BootEnv(node.bootStore).read().isEmpty()) {
        // init died before a valid boot env existed: GRUB boots A, init is simply run again
        agent.init("v1", SimulatedNode.sha256(v1));
        continue;
      }
      AgentStatus s = agent.status();
      SlotStatus b = s.slots().get(Slot.B);
      boolean v2Verified = b.state() == SlotState.VERIFIED && "v2".equals(b.version());
      if (s.bootedSlot() == Slot.B && s.defaultSlot() == Slot.B && !s.trialBoot() && v2Verified) {
        assertThat(node.slotDigest(Slot.B, v2.length))
            .as(where)
            .isEqualTo(SimulatedNode.sha256(v2));
        return;
      }
      if (s.trialBoot()) {
        agent.health(true);
      } else if (s.nextBootSlot() != s.bootedSlot()) {
        node.powerCycle();
      } else if (s.bootedSlot() == Slot.A) {
        if (!v2Verified) {
          agent.stage(v2Request(), ProgressListener.NONE);
        }
        agent.activate();
        node.powerCycle();
      } else {
        fail(where + ": no way forward from " + s);
      }
    }
    fail(where + ": did not converge");
  }

  private static SimulatedNode newNode() throws IOException {
    SimulatedNode node = new SimulatedNode(pristine);
    node.writeSlot(Slot.A, v1);
    node.payloads.put(V2_URL, v2);
    return node;
  }

  static StageRequest v2Request() {
    return new StageRequest(
        URI.create(V2_URL),
        SimulatedNode.sha256(v2),
        "v2",
        StageRequest.Format.RAW,
        FetchOptions.defaults());
  }

  static byte[] random(long seed, int size) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }
}
