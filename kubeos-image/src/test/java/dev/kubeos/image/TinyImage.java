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
