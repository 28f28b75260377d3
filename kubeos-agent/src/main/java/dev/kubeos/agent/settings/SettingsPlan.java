package dev.kubeos.agent.settings;

import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.model.BootState;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The edits of one request, computed before anything is written. Models read through it, so a
 * second change to the same file or command line sees the first; each target keeps the content it
 * had before the request and the content after its last change.
 */
public final class SettingsPlan {
  private final Path root;
  private final BootEnv bootEnv;
  private final Slot booted;
  private final SettingsPolicy policy;
  private final Map<String, Edit> edits = new LinkedHashMap<>();
  private BootState boot;

  SettingsPlan(Path root, BootEnv bootEnv, Slot booted, SettingsPolicy policy) {
    this.root = root;
    this.bootEnv = bootEnv;
    this.booted = booted;
    this.policy = policy;
  }

  /** The node's settings policy, which every change must pass. */
  public SettingsPolicy policy() {
    return policy;
  }

  /**
   * The file a model writes: {@code configPath}, or {@code defaultPath} without one, checked by
   * {@link PathPolicy} and the node's policy; the real path to write.
   */
  Path file(String model, String configPath, String defaultPath) {
    return PathPolicy.resolve(root, policy, model, configPath, defaultPath);
  }

  public Path root() {
    return root;
  }

  /** The slot the system runs from; null when unknown (grub models then refuse). */
  public Slot booted() {
    return booted;
  }

  /** Turns a configuration file's text ("" when it does not exist) into its new text. */
  @FunctionalInterface
  interface FileEdit {
    String apply(Path file, String text);
  }

  /**
   * Plans the edit of {@code model}'s configuration file ({@code configPath}, else {@code
   * defaultPath}) as this request left it so far; a missing file that would stay empty is not
   * created.
   */
  void editFile(String model, String configPath, String defaultPath, FileEdit edit) {
    Path file = file(model, configPath, defaultPath);
    String before = read(Edit.Kind.FILE, file);
    String after = edit.apply(file, before == null ? "" : before);
    put(model, Edit.Kind.FILE, file, before == null && after.isEmpty() ? null : after);
  }

  /** Current content as this request left it so far; null when the file does not exist. */
  public String read(Edit.Kind kind, Path path) {
    Edit e = edits.get(kind + ":" + path);
    if (e != null) {
      return e.after();
    }
    try {
      return Files.isRegularFile(path) ? Files.readString(path, StandardCharsets.UTF_8) : null;
    } catch (IOException e2) {
      throw new AgentException(
          ErrorCode.IO_ERROR, "could not read " + path + ": " + e2.getMessage(), e2);
    }
  }

  public void put(String model, Edit.Kind kind, Path path, String after) {
    String id = kind + ":" + path;
    Edit e = edits.get(id);
    edits.put(
        id,
        e != null
            ? e.withAfter(after)
            : new Edit(model, kind, path, null, read(kind, path), after));
  }

  /** A slot's extra kernel command line as this request left it so far. */
  public String cmdline(String model, Slot slot) {
    Edit e = edits.get("CMDLINE:" + slot);
    return e != null ? e.after() : bootState(model).cmdline().get(slot);
  }

  public void putCmdline(String model, Slot slot, String after) {
    String id = "CMDLINE:" + slot;
    Edit e = edits.get(id);
    edits.put(
        id,
        e != null
            ? e.withAfter(after)
            : new Edit(model, Edit.Kind.CMDLINE, null, slot, cmdline(model, slot), after));
  }

  BootState bootState(String model) {
    if (boot == null) {
      if (bootEnv == null) {
        throw new AgentException(
            ErrorCode.PRECONDITION_FAILED,
            "settings model " + model + " needs the boot environment, which this agent has not");
      }
      boot =
          bootEnv
              .read()
              .orElseThrow(
                  () ->
                      new AgentException(
                          ErrorCode.PRECONDITION_FAILED,
                          "settings model "
                              + model
                              + ": no valid boot environment (run 'kubeos agent init' first);"
                              + " nothing was changed"));
    }
    return boot;
  }

  /** Every target in the order first touched, including those left unchanged. */
  public List<Edit> edits() {
    return new ArrayList<>(edits.values());
  }
}
