package dev.kubeos.agent;

import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.boot.MemoryBootEnvStore;
import dev.kubeos.agent.disk.DiskLayout;
import dev.kubeos.agent.disk.MemoryBlockDevice;
import dev.kubeos.agent.health.HealthChecker;
import dev.kubeos.agent.health.HealthConfig;
import dev.kubeos.agent.host.MemoryOperationLock;
import dev.kubeos.agent.model.AgentState;
import dev.kubeos.agent.model.BootDecision;
import dev.kubeos.agent.model.BootSelector;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.BootEnvStore;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.DiskOpener;
import dev.kubeos.agent.port.EtcCarrier;
import dev.kubeos.agent.port.ForwardingBlockDevice;
import dev.kubeos.agent.port.StateStore;
import dev.kubeos.agent.state.MemoryStateStore;
import dev.kubeos.agent.trust.TrustGate;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.formats.boot.GrubEnvBlock;
import dev.kubeos.oci.source.PayloadSource;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A node whose durable parts (disk, ESP env files, PERSIST state) live in memory, so a test can
 * kill the agent at any write, "reboot" through the bootloader's selection, and start a new agent
 * process on the same durable state.
 */
final class SimulatedNode {
  final MemoryBlockDevice disk;
  final MemoryBootEnvStore bootStore = new MemoryBootEnvStore();
  final MemoryStateStore stateStore = new MemoryStateStore();
  final Map<String, byte[]> payloads = new HashMap<>();
  Slot booted = Slot.A;
  HealthConfig health = new HealthConfig(null, null, null);
  CommandRunner commands = (argv, timeout) -> new CommandRunner.Result(0, "", false);
  int reboots;
  EtcCarrier etc = EtcCarrier.NONE;

  SimulatedNode(byte[] gptDisk) {
    this.disk = new MemoryBlockDevice(gptDisk.clone());
  }

  /** A new agent process on this node; its durable writes go through {@code crash}. */
  Agent agent(Crash crash) {
    DiskOpener opener =
        new DiskOpener() {
          @Override
          public BlockDevice open(boolean writable) {
            return new CrashingDevice(disk, crash);
          }

          @Override
          public String name() {
            return "memory disk";
          }

          @Override
          public Optional<Path> path() {
            return Optional.empty();
          }
        };
    return new Agent(
        new Agent.Deps(
            opener,
            new BootEnv(new CrashingBootEnvStore(bootStore, crash)),
            new CrashingStateStore(stateStore, crash),
            new MemoryOperationLock(),
            booted,
            Clock.systemUTC(),
            reason -> reboots++,
            commands,
            (url, options) -> source(url.toString()),
            Path.of("unused-work-dir"),
            new HealthChecker(health, commands, Clock.systemUTC()),
            null,
            TrustGate.NONE,
            null),
        etc);
  }

  /** What GRUB does at power-on: select the slot, consume a trial, start it. */
  Slot powerCycle() throws IOException {
    BootDecision d =
        BootSelector.select(
            bootStore.readCopy(0), bootStore.readCopy(1), bootStore.readBootRecord());
    if (d.trial()) {
      bootStore.writeBootRecord(
          GrubEnvBlock.encode(Map.of("kubeos_tried", Long.toString(d.consumedTrialId()))));
    }
    booted = d.slot();
    return booted;
  }

  /** The slot GRUB would start now, without starting it. */
  Slot nextBoot() throws IOException {
    return BootSelector.select(
            bootStore.readCopy(0), bootStore.readCopy(1), bootStore.readBootRecord())
        .slot();
  }

  AgentState state() {
    return stateStore.load().orElse(AgentState.empty());
  }

  /** SHA-256 of the first {@code length} bytes of a slot, as on the disk now. */
  String slotDigest(Slot slot, int length) throws IOException {
    DiskLayout layout = DiskLayout.read(disk, "memory disk");
    ByteBuffer buf = ByteBuffer.allocate(length);
    disk.read(layout.slotOffset(slot), buf);
    return sha256(buf.array());
  }

  void writeSlot(Slot slot, byte[] content) throws IOException {
    DiskLayout layout = DiskLayout.read(disk, "memory disk");
    disk.write(layout.slotOffset(slot), ByteBuffer.wrap(content));
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private PayloadSource source(String url) {
    byte[] bytes = payloads.get(url);
    if (bytes == null) {
      throw new IllegalArgumentException("no payload " + url);
    }
    return new PayloadSource() {
      @Override
      public String describe() {
        return url;
      }

      @Override
      public Opened open(long offset) {
        return new Opened(
            new ByteArrayInputStream(bytes, (int) offset, bytes.length - (int) offset),
            OptionalLong.of(bytes.length));
      }

      @Override
      public boolean supportsResume() {
        return true;
      }
    };
  }

  /** Disk writes and syncs are kill points; close does not close the shared memory disk. */
  private static final class CrashingDevice extends ForwardingBlockDevice {
    private final Crash crash;

    CrashingDevice(BlockDevice d, Crash crash) {
      super(d);
      this.crash = crash;
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
      crash.point("disk write @" + offset);
      super.write(offset, src);
    }

    @Override
    public void sync() throws IOException {
      crash.point("disk sync");
      super.sync();
    }

    @Override
    protected BlockDevice decorate(BlockDevice slice) {
      return new CrashingDevice(slice, crash);
    }

    @Override
    public void close() {}
  }

  private static final class CrashingBootEnvStore implements BootEnvStore {
    private final MemoryBootEnvStore d;
    private final Crash crash;

    CrashingBootEnvStore(MemoryBootEnvStore d, Crash crash) {
      this.d = d;
      this.crash = crash;
    }

    @Override
    public byte[] readCopy(int index) throws IOException {
      return d.readCopy(index);
    }

    @Override
    public void writeCopy(int index, byte[] block) throws IOException {
      int torn = crash.bootEnvPoint("boot env copy " + index);
      if (torn >= 0) {
        d.tearNextWrite(torn);
        try {
          d.writeCopy(index, block);
        } catch (IOException expected) {
          throw new Crash.Killed("torn write of boot env copy " + index + " at byte " + torn);
        }
        throw new AssertionError("the torn write did not tear");
      }
      d.writeCopy(index, block);
    }

    @Override
    public byte[] readBootRecord() throws IOException {
      return d.readBootRecord();
    }

    @Override
    public void writeBootRecord(byte[] block) throws IOException {
      crash.point("boot record");
      d.writeBootRecord(block);
    }
  }

  private static final class CrashingStateStore implements StateStore {
    private final StateStore d;
    private final Crash crash;

    CrashingStateStore(StateStore d, Crash crash) {
      this.d = d;
      this.crash = crash;
    }

    @Override
    public Optional<AgentState> load() throws IOException {
      return d.load();
    }

    @Override
    public void save(AgentState state) throws IOException {
      crash.point("state save");
      d.save(state);
    }
  }

  static List<Slot> slots() {
    return List.of(Slot.values());
  }
}
