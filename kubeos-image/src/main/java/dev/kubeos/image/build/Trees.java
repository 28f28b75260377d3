package dev.kubeos.image.build;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.files.WorkDirs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/** File-tree helpers of the build: tar in/out, recursive delete, hashing, modes. */
public final class Trees {
  private Trees() {}

  /** Contents no root file-system tarball carries (mounted at boot; device nodes are refused). */
  private static final List<String> EXCLUDES =
      List.of("./dev/*", "./proc/*", "./sys/*", "./run/*", "./tmp/*");

  /** Tars {@code tree} into {@code out}: sorted names, numeric owners (root when not root). */
  public static void tar(Exec exec, HostTools tools, Path tree, Path out) {
    List<String> argv =
        new java.util.ArrayList<>(
            List.of(
                tools.path(Tool.TAR),
                "--create",
                "--file",
                out.toString(),
                "--numeric-owner",
                "--sort=name"));
    if (!HostTools.isRoot()) {
      argv.addAll(List.of("--owner=0", "--group=0"));
    }
    for (String e : EXCLUDES) {
      argv.add("--exclude=" + e);
    }
    argv.addAll(List.of("-C", tree.toString(), "."));
    exec.run(argv);
  }

  /** Extracts {@code tar} into {@code dir} keeping modes (and owners when root). */
  public static void untar(Exec exec, HostTools tools, Path tar, Path dir) {
    List<String> argv =
        new java.util.ArrayList<>(
            List.of(tools.path(Tool.TAR), "--extract", "--file", tar.toString(), "-p"));
    argv.add(HostTools.isRoot() ? "--numeric-owner" : "--no-same-owner");
    for (String e : EXCLUDES) {
      argv.add("--exclude=" + e);
    }
    argv.addAll(List.of("-C", dir.toString()));
    exec.run(argv);
  }

  /** Deletes a tree (making directories writable first), never following symlinks. */
  public static void delete(Path root) {
    try {
      WorkDirs.deleteRecursively(root);
    } catch (IOException e) {
      throw io("cannot delete " + root, e);
    }
  }

  /** Hex SHA-256 of a file's bytes. */
  public static String sha256(Path file) {
    try (InputStream in =
        new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (IOException e) {
      throw io("cannot hash " + file, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes {@code file}.sha256 in sha256sum's format and returns the digest. */
  public static String writeSha256(Path file) {
    String hex = sha256(file);
    try {
      Files.writeString(
          file.resolveSibling(file.getFileName() + ".sha256"),
          hex + "  " + file.getFileName() + "\n");
    } catch (IOException e) {
      throw io("cannot write the checksum of " + file, e);
    }
    return hex;
  }

  /** Sets an octal mode (e.g. 0755) on a file. */
  public static void chmod(Path file, int mode) throws IOException {
    Set<PosixFilePermission> perms = PosixFilePermissions.fromString(rwx(mode));
    Files.setPosixFilePermissions(file, perms);
  }

  private static String rwx(int mode) {
    String s = "rwxrwxrwx";
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 9; i++) {
      b.append((mode & (1 << (8 - i))) != 0 ? s.charAt(i) : '-');
    }
    return b.toString();
  }

  public static AgentException io(String what, IOException e) {
    return new AgentException(ErrorCode.IO_ERROR, what + ": " + e, e);
  }
}
