package dev.kubeos.agent.settings;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.boot.FileBootEnvStore;
import dev.kubeos.agent.port.BootEnvStore;
import dev.kubeos.agent.settings.model.SettingsRequest;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** A node's settings files under a temp root, its GRUB env files and its agent state dir. */
final class Node {
  static final String SYSCTL_CONF = "# from the image\nvm.swappiness = 10\n";
  static final String LIMITS = "# /etc/security/limits.conf\n*\tsoft\tnofile\t1024\n";

  final Path root;
  final Path stateDir;
  final Path bootDir;
  final FailingStore store;
  final BootEnv bootEnv;

  Node(Path dir) throws IOException {
    root = Files.createDirectories(dir.resolve("root"));
    stateDir = Files.createDirectories(dir.resolve("state"));
    bootDir = Files.createDirectories(dir.resolve("boot"));
    store = new FailingStore(new FileBootEnvStore(bootDir));
    bootEnv = new BootEnv(store);
    bootEnv.initialize(Slot.A);
    write("proc/sys/net/ipv4/ip_forward", "0\n");
    write("proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n");
    write("proc/sys/vm/swappiness", "60\n");
    write("etc/sysctl.conf", SYSCTL_CONF);
    write("etc/security/limits.conf", LIMITS);
    write("etc/containerd/config.toml", dev.kubeos.agent.settings.model.TomlTextTest.CONTAINERD);
    write("var/lib/kubelet/config.yaml", dev.kubeos.agent.settings.model.YamlTextTest.KUBELET);
  }

  SettingsEngine engine(SettingsWriter writer) {
    return new SettingsEngine(root, stateDir, bootEnv, Slot.A, writer, Clock.systemUTC());
  }

  SettingsEngine engine() {
    return engine(SettingsWriter.ATOMIC);
  }

  /**
   * An engine under the policy file {@code policy} (the compiled-in defaults when it is absent).
   */
  SettingsEngine engine(Path policy) {
    return new SettingsEngine(
        root,
        stateDir,
        bootEnv,
        Slot.A,
        SettingsWriter.ATOMIC,
        Clock.systemUTC(),
        () -> SettingsPolicy.load(policy));
  }

  void write(String path, String content) throws IOException {
    Path p = root.resolve(path);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
  }

  String read(String path) throws IOException {
    return Files.readString(root.resolve(path));
  }

  Map<Slot, String> cmdlines() {
    return bootEnv.read().orElseThrow().cmdline();
  }

  /** Every file (content) and link (target) under the root and the state dir, and the env. */
  Map<String, String> snapshot() throws IOException {
    Map<String, String> out = new TreeMap<>();
    for (Path base : new Path[] {root, stateDir}) {
      try (Stream<Path> files = Files.walk(base)) {
        files.forEach(
            p -> {
              try {
                String key = base.getFileName() + "/" + base.relativize(p);
                if (Files.isSymbolicLink(p)) {
                  out.put(key, "link:" + Files.readSymbolicLink(p));
                } else if (Files.isRegularFile(p)) {
                  out.put(key, Files.readString(p, StandardCharsets.UTF_8));
                }
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
      }
    }
    out.put("cmdline", cmdlines().toString());
    return out;
  }

  static SettingsRequest request(String json) throws IOException {
    JsonNode tree = Json.mapper().readTree(json.replace('\'', '"'));
    return SettingsRequest.fromCr(tree);
  }

  /** A boot-env store whose copy writes fail on demand. */
  static final class FailingStore implements BootEnvStore {
    private final BootEnvStore delegate;
    boolean fail;

    FailingStore(BootEnvStore delegate) {
      this.delegate = delegate;
    }

    @Override
    public byte[] readCopy(int index) throws IOException {
      return delegate.readCopy(index);
    }

    @Override
    public void writeCopy(int index, byte[] block) throws IOException {
      if (fail) {
        throw new IOException("injected: ESP write failed");
      }
      delegate.writeCopy(index, block);
    }

    @Override
    public byte[] readBootRecord() throws IOException {
      return delegate.readBootRecord();
    }

    @Override
    public void writeBootRecord(byte[] block) throws IOException {
      delegate.writeBootRecord(block);
    }
  }
}
