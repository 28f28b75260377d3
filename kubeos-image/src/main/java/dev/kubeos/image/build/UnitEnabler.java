package dev.kubeos.image.build;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Enables systemd units in a staging tree the way {@code systemctl enable} does, without running
 * systemd: reads the unit's [Install] section and links it into each WantedBy=/RequiredBy= target.
 */
final class UnitEnabler {
  private static final List<String> SEARCH =
      List.of("etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system");

  private final Path root;

  UnitEnabler(Path root) {
    this.root = root;
  }

  void enable(List<String> units) throws IOException {
    for (String unit : units) {
      String file = unit.matches(".+@.+\\..+") ? unit.replaceFirst("@.+\\.", "@.") : unit;
      String found = null;
      for (String dir : SEARCH) {
        if (Files.isRegularFile(root.resolve(dir).resolve(file))) {
          found = dir + "/" + file;
          break;
        }
      }
      if (found == null) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST,
            "systemd unit "
                + unit
                + " to enable is not in the image (looked in "
                + String.join(", ", SEARCH)
                + "); install the package that ships it or copy it with [[files]]");
      }
      List<String> targets = install(Files.readAllLines(root.resolve(found)));
      if (targets.isEmpty()) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST,
            "systemd unit " + unit + " has no WantedBy=/RequiredBy= in [Install]; cannot enable");
      }
      for (String t : targets) {
        Path link = root.resolve("etc/systemd/system").resolve(t).resolve(unit);
        Files.createDirectories(link.getParent());
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of("/" + found.replaceFirst("^lib/", "usr/lib/")));
      }
    }
  }

  /** "target.wants" / "target.requires" directory names from the [Install] section. */
  static List<String> install(List<String> lines) {
    List<String> out = new ArrayList<>();
    boolean inInstall = false;
    for (String raw : lines) {
      String line = raw.strip();
      if (line.startsWith("[")) {
        inInstall = line.equals("[Install]");
      } else if (inInstall && line.contains("=")) {
        String key = line.substring(0, line.indexOf('=')).strip();
        String suffix =
            key.equals("WantedBy") ? ".wants" : key.equals("RequiredBy") ? ".requires" : null;
        if (suffix != null) {
          for (String t : line.substring(line.indexOf('=') + 1).strip().split("\\s+")) {
            if (!t.isEmpty()) {
              out.add(t + suffix);
            }
          }
        }
      }
    }
    return out;
  }
}
