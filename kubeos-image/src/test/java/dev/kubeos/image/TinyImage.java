package dev.kubeos.image;

import dev.kubeos.formats.signing.Keys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny distribution tree (no kernel), an agent runtime directory and a config using the directory
 * source: enough for every check of the builder except booting.
 */
final class TinyImage {
  private TinyImage() {}

  static Path config(Path dir, String version) throws IOException {
    Path tree = dir.resolve("tree");
    Files.createDirectories(tree.resolve("etc"));
    Files.createDirectories(tree.resolve("usr/lib/systemd/system"));
    Files.createDirectories(tree.resolve("var/lib/demo"));
    Files.writeString(tree.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    Files.writeString(tree.resolve("etc/group"), "root:x:0:\nwheel:x:10:\n");
    Files.writeString(tree.resolve("etc/shadow"), "root:*:19000:0:99999:7:::\n");
    Files.writeString(tree.resolve("var/lib/demo/state"), "kept on PERSIST\n");
    Files.writeString(
        tree.resolve("usr/lib/systemd/system/demo.service"),
        "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n");
    Path rt = dir.resolve("runtime");
    Files.createDirectories(rt.resolve("bin"));
    Files.writeString(rt.resolve("bin/java"), "#!/bin/sh\necho 'jlinked java'\n");
    Files.setPosixFilePermissions(
        rt.resolve("bin/java"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(rt.resolve("kubeos.jar"), "agent jar bytes");
    Files.createDirectories(dir.resolve("files"));
    Files.writeString(dir.resolve("files/health.json"), "{\"units\":[\"demo.service\"]}\n");
    Files.createDirectories(dir.resolve("keys"));
    Files.writeString(dir.resolve("keys/release.pub"), Keys.publicPem(Keys.generate().getPublic()));
    List<String> toml = new ArrayList<>();
    toml.add("version = \"" + version + "\"");
    toml.add("profile = \"minimal\"");
    toml.add("[distribution]\nsource = \"directory\"\npath = \"tree\"");
    toml.add("[users]\nroot_password_hash = '$6$salt$roothash'");
    toml.add("[[users.accounts]]\nname = \"ops\"\nuid = 1001\ngroups = [\"wheel\"]");
    toml.add("[[files]]\nsource = \"files/health.json\"\ntarget = \"/etc/KubeOS/health.json\"");
    toml.add("[systemd]\nenable = [\"demo.service\"]");
    toml.add("[partitions]\nesp_mib = 16\nroot_mib = 16\npersist_mib = 8");
    toml.add("[kernel]\ncmdline = \"console=ttyS0,115200\"");
    toml.add("[agent]\nruntime = \"runtime\"");
    toml.add("[trust]\nkeys = [\"keys/release.pub\"]\nrequire_signatures = true");
    Path config = dir.resolve("kubeos.toml");
    Files.writeString(config, String.join("\n", toml) + "\n", StandardCharsets.UTF_8);
    return config;
  }

  /**
   * A tiny node tree: the tiny tree plus stand-ins for the units and files the node profile's
   * Debian packages ship (containerd, networkd, resolved, timesyncd, AppArmor, CNI plugins), a fake
   * kubelet and kubeadm, and a config with the default (node) profile, a [kubernetes] section and
   * two extra health checks.
   */
  static Path nodeConfig(Path dir, String version) throws IOException {
    Path minimal = config(dir, version);
    Path tree = dir.resolve("tree");
    Path units = tree.resolve("usr/lib/systemd/system");
    for (String[] u :
        new String[][] {
          {"containerd.service", "multi-user.target"},
          {"systemd-networkd.service", "multi-user.target"},
          {"systemd-networkd.socket", "sockets.target"},
          {"systemd-resolved.service", "sysinit.target"},
          {"systemd-timesyncd.service", "sysinit.target"},
          {"apparmor.service", "sysinit.target"}
        }) {
      Files.writeString(
          units.resolve(u[0]),
          "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=" + u[1] + "\n");
    }
    Files.createDirectories(tree.resolve("usr/lib/cni"));
    for (String plugin : List.of("bridge", "loopback")) {
      Files.writeString(tree.resolve("usr/lib/cni/" + plugin), "#!/bin/sh\n");
    }
    Files.createDirectories(tree.resolve("etc/containerd"));
    Files.writeString(
        tree.resolve("etc/containerd/config.toml"),
        "version = 2\n[plugins]\n  [plugins.\"io.containerd.grpc.v1.cri\"]\n");
    Files.createDirectories(dir.resolve("k8s"));
    for (String bin : List.of("kubelet", "kubeadm")) {
      Files.writeString(dir.resolve("k8s/" + bin), "#!/bin/sh\necho " + bin + " v1.30.4\n");
    }
    String toml =
        Files.readString(minimal)
            .replace("profile = \"minimal\"\n", "")
            .replace(
                "[[files]]\nsource = \"files/health.json\"\ntarget = \"/etc/KubeOS/health.json\"\n",
                "")
            .replace("root_mib = 16\npersist_mib = 8", "root_mib = 24\npersist_mib = 8");
    toml +=
        "[kubernetes]\nversion = \"1.30.4\"\nkubelet = \"k8s/kubelet\"\nkubeadm = \"k8s/kubeadm\"\n"
            + "[health]\ndeadline_seconds = 240\n"
            + "[[health.checks]]\ntype = \"http\"\nurl = \"http://127.0.0.1:8080/ready\"\n"
            + "deadline_seconds = 60\n"
            + "[[health.checks]]\ntype = \"command\"\nargv = [\"/usr/bin/test\", \"-d\", \"/var/lib\"]\n";
    Path config = dir.resolve("node.toml");
    Files.writeString(config, toml, StandardCharsets.UTF_8);
    return config;
  }

  /** Runs a host command, returns its stdout+stderr; fails the test on a non-zero exit. */
  static String run(String... argv) throws IOException, InterruptedException {
    return runIn(null, argv);
  }

  /** {@link #run} in the working directory {@code cwd}. */
  static String runIn(Path cwd, String... argv) throws IOException, InterruptedException {
    argv = argv.clone();
    argv[0] = resolve(argv[0]);
    ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
    if (cwd != null) {
      pb.directory(cwd.toFile());
    }
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new AssertionError(String.join(" ", argv) + " failed: " + out);
    }
    return out;
  }

  private static String resolve(String command) {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin";
    for (String dir : path.split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return Path.of(dir, command).toString();
      }
    }
    return command;
  }

  /** {@code debugfs -R CMD} on the ext4 file system at {@code offset} of {@code disk}. */
  static String debugfs(Path disk, long offset, String cmd) throws Exception {
    return run("debugfs", "-R", cmd, disk + "?offset=" + offset)
        .lines()
        .filter(l -> !l.startsWith("debugfs "))
        .reduce("", (a, b) -> a + b + "\n");
  }
}
