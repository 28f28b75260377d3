package dev.kubeos.cluster.proxy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import dev.kubeos.api.agent.UpgradeRequest;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An agent in memory with the real agent's A/B model (kubeos-agent's {@code NodeView}): {@code
 * prepare_upgrade} stages the inactive slot, {@code upgrade} arms a boot-once trial of it and
 * "reboots", {@code rollback} makes the other slot the default and "reboots". A reboot changes the
 * Node's {@code status.nodeInfo.osImage} and {@code bootID} after a delay, as a kubelet reports a
 * node that came up; a trial boot then is the uncommitted trial until the node's health check
 * decides: by default ({@link #healthCommits}) it commits as the node comes up, else the test
 * decides with {@link #passHealth()} or {@link #failHealth(String)}. Its slots survive proxy
 * restarts (one instance per node, shared by successive proxies: the node's "disk").
 */
final class MemoryAgent implements AgentClient {
  final List<String> calls = new CopyOnWriteArrayList<>();
  final List<ConfigureRequest> configured = new CopyOnWriteArrayList<>();

  /** What {@code configure} answers in {@code warnings} (entries the agent skipped). */
  volatile List<String> configureWarnings = List.of();

  private final KubernetesClient client;
  private final String node;
  private final long rebootDelayMs;

  /** The version the other slot holds for {@code rollback} (null: not verified, refused). */
  volatile String otherSlot;

  /** When set, the next reboot request reboots and then the caller dies (a killed proxy). */
  volatile boolean dieAfterReboot;

  /**
   * When set, the trial boot fails its health check and the node falls back to the default slot,
   * which the Node then reports as this version (the kubelet reports the fallback boot only).
   */
  volatile String bootsInto;

  /**
   * What {@code status} reports as the last failed trial when the test sets it; a failed health
   * check sets it too (the real agent's wording).
   */
  volatile String lastFailure;

  /** When set, {@code status} fails with this code (the agent cannot be reached). */
  volatile ErrorCode statusFails;

  /** When set, {@code upgrade} is accepted but the node never reboots. */
  volatile boolean neverReboots;

  /**
   * When set, a reboot waits for the test instead of a timer: {@link #bootPending()} brings the
   * node up in its new boot (the agent answers from it), {@link #reportPending()} is the kubelet's
   * report of that boot. A test thus fixes their order against the proxy's passes.
   */
  volatile boolean manualReboots;

  private Runnable pendingBoot;
  private Runnable pendingReport;

  /** When set, {@code prepare_upgrade} fails with this code (e.g. a bad checksum). */
  volatile ErrorCode stageFails;

  /**
   * Whether the health check of a trial boot passes and commits it as the node comes up (before the
   * Node reports the boot); false: the trial stays pending until {@link #passHealth()} or {@link
   * #failHealth(String)}, as on a real node whose kubelet reports before the health check ends.
   */
  volatile boolean healthCommits = true;

  /** Reboots that happened (bootID changed). */
  final AtomicInteger boots = new AtomicInteger();

  // the node's disk and boot env, guarded by this
  private Slot booted = Slot.A;
  private Slot defaultSlot = Slot.A;
  private Slot trialSlot;
  private boolean trialBoot;
  private final Map<Slot, SlotStatus> slots = new EnumMap<>(Slot.class);

  MemoryAgent(KubernetesClient client, String node, long rebootDelayMs) {
    this.client = client;
    this.node = node;
    this.rebootDelayMs = rebootDelayMs;
    // the factory slot: its version is whatever the Node reports before any upgrade
    slots.put(Slot.A, new SlotStatus(null, null, SlotState.VERIFIED, Instant.EPOCH));
    slots.put(Slot.B, SlotStatus.empty());
  }

  @Override
  public void prepareUpgrade(UpgradeRequest request) {
    calls.add("prepare_upgrade " + request.version());
    if (stageFails != null) {
      throw new AgentException(
          stageFails, "staging " + request.version() + " failed: the payload's checksum differs");
    }
    synchronized (this) {
      slots.put(
          booted.other(),
          new SlotStatus(request.version(), null, SlotState.VERIFIED, Instant.now()));
    }
  }

  @Override
  public void upgrade() {
    calls.add("upgrade");
    Slot target;
    String version;
    synchronized (this) {
      target = booted.other();
      if (slots.get(target).state() != SlotState.VERIFIED) {
        throw new AgentException(ErrorCode.PRECONDITION_FAILED, "nothing staged");
      }
      trialSlot = target;
      version = slots.get(target).version();
    }
    reboot(() -> bootTrial(target), bootsInto != null ? bootsInto : version);
  }

  @Override
  public void rollback() {
    calls.add("rollback");
    String version = otherSlot;
    if (version == null) {
      throw new AgentException(ErrorCode.PRECONDITION_FAILED, "the other slot is not verified");
    }
    Slot other;
    synchronized (this) {
      other = booted.other();
      slots.put(other, new SlotStatus(version, null, SlotState.VERIFIED, Instant.now()));
      defaultSlot = other;
      trialSlot = null;
    }
    reboot(() -> bootSlot(other), version);
  }

  @Override
  public List<String> configure(ConfigureRequest request) {
    calls.add("configure " + request.version());
    configured.add(request);
    return configureWarnings;
  }

  @Override
  public synchronized AgentStatus status() {
    calls.add("status");
    if (statusFails != null) {
      throw new AgentException(statusFails, "cannot connect to the agent's socket");
    }
    return new AgentStatus(
        booted,
        defaultSlot,
        trialSlot,
        trialSlot != null && !trialBoot ? trialSlot : defaultSlot,
        trialBoot,
        Map.copyOf(slots),
        lastFailure);
  }

  /** The node's health check passed on the running trial boot: commit it (agent {@code commit}). */
  synchronized void passHealth() {
    if (!trialBoot) {
      throw new IllegalStateException("the running boot of slot " + booted + " is no trial");
    }
    defaultSlot = booted;
    trialSlot = null;
    trialBoot = false;
    lastFailure = null;
  }

  /**
   * The node's health check failed on the running trial boot: the slot is recorded as a failed
   * trial and the node falls back: it reboots into the default slot, which the Node reports as
   * {@code oldVersion}.
   */
  void failHealth(String oldVersion) {
    Slot fallback;
    synchronized (this) {
      if (!trialBoot) {
        throw new IllegalStateException("the running boot of slot " + booted + " is no trial");
      }
      recordFailedTrial();
      fallback = defaultSlot;
    }
    reboot(() -> bootSlot(fallback), oldVersion);
  }

  /** Whether the running boot is an uncommitted trial. */
  synchronized boolean inTrial() {
    return trialBoot;
  }

  long count(String call) {
    return calls.stream().filter(c -> c.equals(call)).count();
  }

  /** The calls that ask the agent to do something ({@code status} only reads). */
  List<String> actions() {
    return calls.stream().filter(c -> !c.equals("status")).toList();
  }

  /** GRUB starts the armed trial; its health check decides at once unless the test does. */
  private synchronized void bootTrial(Slot target) {
    booted = target;
    trialBoot = true;
    if (bootsInto != null) { // the trial's health check fails: the node falls back by itself
      recordFailedTrial();
      booted = defaultSlot;
    } else if (healthCommits) {
      passHealth();
    }
  }

  private synchronized void bootSlot(Slot slot) {
    booted = slot;
    trialBoot = false;
  }

  private void recordFailedTrial() {
    SlotStatus s = slots.get(booted);
    slots.put(
        booted, new SlotStatus(s.version(), s.sha256(), SlotState.FAILED_TRIAL, Instant.now()));
    if (lastFailure == null) {
      lastFailure =
          "trial boot of slot " + booted + " (" + s.version() + ") failed its health check";
    }
    trialSlot = null;
    trialBoot = false;
  }

  /**
   * After the delay the node is up again: {@code boot} changes the disk's state, then the kubelet
   * reports; with {@link #manualReboots}, when the test says so.
   */
  private void reboot(Runnable boot, String version) {
    if (neverReboots) {
      return;
    }
    Runnable report = () -> report(version);
    if (manualReboots) {
      synchronized (this) {
        pendingBoot = boot;
        pendingReport = report;
      }
    } else {
      Thread t =
          new Thread(
              () -> {
                try {
                  Thread.sleep(rebootDelayMs);
                } catch (InterruptedException e) {
                  return;
                }
                boot.run();
                report.run();
              });
      t.setDaemon(true);
      t.start();
    }
    if (dieAfterReboot) {
      dieAfterReboot = false;
      throw new ProxyKilled();
    }
  }

  /** {@link #manualReboots}: the node is up in the boot the pending reboot starts. */
  void bootPending() {
    take(true).run();
  }

  /** {@link #manualReboots}: the kubelet reports the boot {@link #bootPending()} started. */
  void reportPending() {
    take(false).run();
  }

  private synchronized Runnable take(boolean boot) {
    Runnable r = boot ? pendingBoot : pendingReport;
    if (r == null || (!boot && pendingBoot != null)) {
      throw new IllegalStateException(boot ? "no reboot pending" : "the node is not up yet");
    }
    if (boot) {
      pendingBoot = null;
    } else {
      pendingReport = null;
    }
    return r;
  }

  /**
   * The kubelet's report of a new boot: osImage and a new bootID. As a kubelet does, a status write
   * that meets a concurrent Node write (the proxy's cordon, the operator's annotation) is made
   * again on the newer Node.
   */
  private void report(String version) {
    String bootId = "boot-" + node + "-" + boots.incrementAndGet();
    for (int attempt = 1; ; attempt++) {
      try {
        client
            .nodes()
            .withName(node)
            .editStatus(
                n -> {
                  n.getStatus().getNodeInfo().setOsImage(version);
                  n.getStatus().getNodeInfo().setBootID(bootId);
                  return n;
                });
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || attempt >= 20) {
          throw e;
        }
      }
    }
  }

  /** Thrown to simulate the proxy process dying in the middle of a step. */
  static final class ProxyKilled extends RuntimeException {
    ProxyKilled() {
      super("proxy killed");
    }
  }
}
