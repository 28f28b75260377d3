package dev.kubeos.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.kubeos.agent.Agent;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.settings.SettingsResult;
import dev.kubeos.agent.settings.model.SettingsRequest;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code kubeos agent configure}: node settings, validated, all-or-nothing and revertible. */
@Command(
    name = "configure",
    mixinStandardHelpOptions = true,
    description = {
      "Apply node settings (upstream's sysconfigs: kernel.sysctl, kernel.sysctl.persist,"
          + " grub.cmdline.current, grub.cmdline.next, kubernetes.kubelet, container.containerd,"
          + " pam.limits) all-or-nothing, or revert a settings version. See docs/settings.md."
    })
final class ConfigureCommand implements Callable<Integer> {
  @ParentCommand AgentCommand parent;
  @Spec CommandSpec spec;

  @Option(
      names = "--file",
      paramLabel = "REQUEST.json",
      description =
          "The request {version, configs: [{model, configpath, contents: [{key, value,"
              + " operation}]}]} (JSON, or the same in YAML).")
  Path file;

  @Option(
      names = "--root",
      paramLabel = "DIR",
      defaultValue = "/",
      description = "Re-base every settings path (also /proc/sys) under DIR (default: /).")
  Path root;

  @Option(
      names = "--dry-run",
      description = "Validate and print the diff per model; change nothing.")
  boolean dryRun;

  @Option(
      names = "--revert",
      paramLabel = "VERSION",
      description = "Restore the settings as they were before VERSION was applied.")
  String revert;

  @Override
  public Integer call() {
    if ((file == null) == (revert == null)) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "give either --file REQUEST.json or --revert VERSION");
    }
    Agent agent = HostAgents.forSettings(parent.options(), Clock.systemUTC(), root);
    SettingsResult result =
        revert != null ? agent.revertSettings(revert, dryRun) : agent.configure(read(), dryRun);
    String what = revert != null ? "revert of settings " : "settings ";
    var out = spec.commandLine().getOut();
    out.print(result.describe(dryRun || revert != null));
    out.println(
        what
            + result.version()
            + ": "
            + (dryRun ? "dry run, nothing changed" : result.changed() ? "applied" : "no change"));
    out.flush();
    return 0;
  }

  private SettingsRequest read() {
    try {
      JsonNode tree = new YAMLMapper().readTree(file.toFile());
      return SettingsRequest.fromCr(tree);
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "cannot read settings request " + file + ": " + e.getMessage());
    }
  }
}
