package dev.kubeos.image.build;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.image.plan.BuildPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Root password and extra accounts, written into passwd/group/shadow of a staging tree. */
final class Accounts {
  private final Path etc;

  Accounts(Path root) {
    this.etc = root.resolve("etc");
  }

  void apply(String rootHash, List<BuildPlan.AccountSpec> accounts) throws IOException {
    if (rootHash == null && accounts.isEmpty()) {
      return;
    }
    List<String> passwd = read("passwd");
    List<String> group = read("group");
    List<String> shadow = read("shadow");
    if (rootHash != null) {
      checkHash(rootHash, "root");
      int i = indexOf(shadow, "root");
      String[] f = shadow.get(i).split(":", -1);
      f[1] = rootHash;
      shadow.set(i, String.join(":", f));
    }
    for (BuildPlan.AccountSpec a : accounts) {
      checkHash(a.passwordHash(), a.name());
      if (find(passwd, a.name()) >= 0 || find(group, a.name()) >= 0) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST,
            "account " + a.name() + " already exists in the distribution's /etc/passwd or group");
      }
      String home = "/home/" + a.name();
      passwd.add(a.name() + ":x:" + a.uid() + ":" + a.uid() + "::" + home + ":" + a.shell());
      group.add(a.name() + ":x:" + a.uid() + ":");
      shadow.add(a.name() + ":" + a.passwordHash() + "::0:99999:7:::");
      for (String g : a.groups()) {
        int i = indexOf(group, g);
        String line = group.get(i);
        group.set(i, line + (line.endsWith(":") ? "" : ",") + a.name());
      }
      Path h = etc.resolveSibling(home.substring(1));
      Files.createDirectories(h);
      Trees.chmod(h, 0750);
      if (HostTools.isRoot()) {
        Files.setAttribute(h, "unix:uid", a.uid());
        Files.setAttribute(h, "unix:gid", a.uid());
      }
    }
    write("passwd", passwd, 0644);
    write("group", group, 0644);
    write("shadow", shadow, 0640);
  }

  private static void checkHash(String hash, String who) {
    if (hash.contains(":") || hash.contains("\n")) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "password hash of " + who + " contains ':' or a newline; give a crypt(3) hash");
    }
  }

  private List<String> read(String name) throws IOException {
    Path f = etc.resolve(name);
    if (!Files.isRegularFile(f)) {
      throw new AgentException(
          ErrorCode.PRECONDITION_FAILED,
          "the root file system has no /etc/" + name + "; users need a distribution tree with one");
    }
    return new ArrayList<>(Files.readAllLines(f));
  }

  private void write(String name, List<String> lines, int mode) throws IOException {
    Path f = etc.resolve(name);
    Files.writeString(f, String.join("\n", lines) + "\n");
    Trees.chmod(f, mode);
  }

  private static int find(List<String> lines, String name) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith(name + ":")) {
        return i;
      }
    }
    return -1;
  }

  private static int indexOf(List<String> lines, String name) {
    int i = find(lines, name);
    if (i < 0) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "'" + name + "' not found in the distribution's /etc files");
    }
    return i;
  }
}
