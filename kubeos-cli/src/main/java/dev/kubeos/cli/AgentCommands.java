package dev.kubeos.cli;

import dev.kubeos.agent.StageRequest;
import dev.kubeos.agent.etc.EtcMerge;
import dev.kubeos.agent.health.HealthReport;
import dev.kubeos.agent.stage.StageResult;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.EtcMergeStatus;
import dev.kubeos.oci.source.FetchOptions;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** The agent's one-shot subcommands; each is a thin call into {@link dev.kubeos.agent.Agent}. */
final class AgentCommands {
  private AgentCommands() {}

  /** Shared plumbing: the parent's options and the output streams. */
  abstract static class Base implements Callable<Integer> {
    @ParentCommand AgentCommand parent;
    @Spec CommandSpec spec;

    // not the standard mixin: its -V/--version would clash with the --version VERSION option
    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    PrintWriter err() {
      return spec.commandLine().getErr();
    }

    int printStatus(AgentStatus status, boolean json) {
      if (json) {
        out().println(StatusText.json(status));
      } else {
        out().print(StatusText.human(status));
      }
      out().flush();
      return 0;
    }
  }

  @Command(
      name = "init",
      description =
          "Set up the boot env and agent state for a disk whose booted slot holds VERSION.")
  static final class Init extends Base {
    @Option(names = "--version", required = true, description = "Version the booted slot holds.")
    String version;

    @Option(names = "--sha256", description = "Digest of the booted slot's image, if known.")
    String sha256;

    @Option(names = "--json", description = "Print the status as JSON.")
    boolean json;

    @Override
    public Integer call() {
      return printStatus(parent.agent().init(version, sha256), json);
    }
  }

  @Command(
      name = "status",
      description = "Show the booted, default, trial and next-boot slots and what each slot holds.")
  static final class Status extends Base {
    @Option(
        names = "--json",
        description =
            "Print JSON (keys bootedSlot, defaultSlot, trialSlot, nextBootSlot, slots.A.version, ...).")
    boolean json;

    @Override
    public Integer call() {
      return printStatus(parent.agent().status(), json);
    }
  }

  @Command(
      name = "stage",
      description = "Write a payload into the slot that is not booted, verify it and record it.")
  static final class Stage extends Base {
    @Option(
        names = "--url",
        description =
            "https://, file:// or (with --insecure) http:// URL of the payload; for --format"
                + " delta the URL of the chunk index (rootfs-V.img.chunkidx), the image is"
                + " fetched by Range from next to it.")
    URI url;

    @Option(
        names = "--image",
        paramLabel = "REF",
        description =
            "Container image [registry/]repository[:tag][@digest] whose file system holds /os.tar"
                + " (upstream's docker/containerd image types), or a KubeOS OS artifact"
                + " (REPO:TAG-raw from 'kubeos image build --push': raw image, staged as a delta"
                + " from the booted slot when it has a chunk index); instead of --url.")
    String image;

    @Option(
        names = "--insecure-registry",
        description = "Talk plain http to the --image registry (hosts.toml may say so instead).")
    boolean insecureRegistry;

    @Option(
        names = "--sha256",
        required = true,
        description =
            "Expected SHA-256 of the payload (hex, optionally sha256:-prefixed); for --image the"
                + " manifest digest; for --format delta the digest of the whole image"
                + " (rootfs-V.img.sha256).")
    String sha256;

    @Option(names = "--version", required = true, description = "OS version the payload holds.")
    String version;

    @Option(
        names = "--format",
        defaultValue = "raw",
        description =
            "raw (root file-system image), tar (rootfs tarball) or delta (only the chunks of a"
                + " raw image the node does not have). Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--insecure", description = "Allow plain http:// (upstream's flagSafe).")
    boolean insecure;

    @Option(
        names = "--ca-cert",
        paramLabel = "PEM",
        description = "CA certificate for https (default: the JDK's trust store).")
    Path caCert;

    @Option(
        names = "--client-cert",
        paramLabel = "PEM",
        description = "Client certificate for mutual TLS.")
    Path clientCert;

    @Option(names = "--client-key", paramLabel = "PEM", description = "Client key for mutual TLS.")
    Path clientKey;

    @Override
    public Integer call() {
      if ((clientCert == null) != (clientKey == null)) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST, "--client-cert and --client-key go together");
      }
      if ((url == null) == (image == null)) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST, "give exactly one of --url and --image");
      }
      StageRequest request =
          image != null
              ? StageRequest.image(
                  image,
                  sha256,
                  version,
                  new FetchOptions(insecureRegistry, caCert, clientCert, clientKey, null, null))
              : new StageRequest(
                  url,
                  sha256,
                  version,
                  StageRequest.Format.parse(format),
                  new FetchOptions(insecure, caCert, clientCert, clientKey, null, null));
      Progress progress = new Progress(err(), "stage " + version);
      StageResult r = parent.agent().stage(request, progress);
      progress.done();
      if (image != null) {
        out()
            .printf(
                "staged %s from image %s: manifest %s, %d bytes%s%s in %.1f s%n",
                version,
                image,
                r.actual(),
                r.bytes(),
                r.fetchedBytes() == r.bytes()
                    ? " (downloaded or from the blob cache)"
                    : String.format(
                        " (fetched %d bytes from the registry, %.1f%%; the rest from the node)",
                        r.fetchedBytes(), 100.0 * r.fetchedBytes() / Math.max(1, r.bytes())),
                r.resumes() > 0 ? ", " + r.resumes() + " resumed downloads" : "",
                r.elapsed().toMillis() / 1000.0);
      } else {
        out()
            .printf(
                "staged %s: %d bytes%s, %s, read back %s%s in %.1f s%n",
                version,
                r.bytes(),
                r.fetchedBytes() == r.bytes()
                    ? ""
                    : String.format(
                        " (fetched %d bytes, %.1f%%; the rest from the node's slots)",
                        r.fetchedBytes(), 100.0 * r.fetchedBytes() / Math.max(1, r.bytes())),
                r.actual(),
                r.readBackUncached() ? "from the device (O_DIRECT)" : "through the page cache",
                r.resumes() > 0 ? ", " + r.resumes() + " resumed downloads" : "",
                r.elapsed().toMillis() / 1000.0);
      }
      out().flush();
      return 0;
    }
  }

  @Command(name = "activate", description = "Arm a boot-once trial of the verified staged slot.")
  static final class Activate extends Base {
    @Override
    public Integer call() {
      return printStatus(parent.agent().activate(), false);
    }
  }

  @Command(
      name = "etc-plan",
      description =
          "Show what the /etc merge into the other slot would do if it ran now (activate runs it):"
              + " the node's entries it keeps and the conflicts. Writes nothing.")
  static final class EtcPlan extends Base {
    @Option(names = "--json", description = "Print the plan as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      EtcMergeStatus plan = parent.agent().previewEtc();
      if (json) {
        out().println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(plan));
      } else {
        out().println(EtcMerge.summary(plan));
        plan.kept().forEach(p -> out().println("  node's:    " + p));
        plan.conflicts().forEach(c -> out().println("  conflict:  " + c));
      }
      out().flush();
      return 0;
    }
  }

  @Command(name = "commit", description = "Make the booted trial slot the committed default.")
  static final class Commit extends Base {
    @Override
    public Integer call() {
      return printStatus(parent.agent().commit(), false);
    }
  }

  @Command(
      name = "rollback",
      description = "Make the other (verified, not failed) slot the default from the next boot.")
  static final class Rollback extends Base {
    @Override
    public Integer call() {
      return printStatus(parent.agent().rollback(), false);
    }
  }

  @Command(
      name = "health",
      description =
          "Run the post-boot checks; on a trial boot, pass commits and failure falls back (reboot).")
  static final class Health extends Base {
    @Option(
        names = "--no-reboot",
        description = "On a failed trial, record it and disarm but do not reboot.")
    boolean noReboot;

    @Override
    public Integer call() {
      HealthReport report = parent.agent().health(!noReboot);
      out().println(line(report));
      out().flush();
      return status(report);
    }

    /** The line both paths of {@code agent health} print (the fast one: {@link FastArgs}). */
    static String line(HealthReport report) {
      return "health " + report.summary();
    }

    static int status(HealthReport report) {
      return report.passed() ? 0 : ErrorCode.HEALTH_FAILED.exitStatus();
    }
  }

  /** Renders status for people and for scripts. */
  static final class StatusText {
    private StatusText() {}

    static String json(AgentStatus s) {
      try {
        return Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(s);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }

    static String human(AgentStatus s) {
      StringBuilder b = new StringBuilder();
      b.append(
          String.format(
              "booted slot:   %s%s%n",
              s.bootedSlot(), s.trialBoot() ? " (uncommitted trial)" : ""));
      b.append(String.format("default slot:  %s%n", s.defaultSlot()));
      b.append(
          String.format("trial slot:    %s%n", s.trialSlot() == null ? "none" : s.trialSlot()));
      b.append(String.format("next boot:     %s%n", s.nextBootSlot()));
      s.slots()
          .forEach(
              (slot, st) ->
                  b.append(
                      String.format(
                          "slot %s:        %-12s version %-10s sha256 %s%n",
                          slot,
                          st.state(),
                          st.version() == null ? "-" : st.version(),
                          st.sha256() == null ? "-" : st.sha256())));
      if (s.lastFailure() != null) {
        b.append("last failure:  ").append(s.lastFailure()).append(System.lineSeparator());
      }
      if (s.etcMerge() != null) {
        var m = s.etcMerge();
        b.append(
            String.format(
                "etc merge:     slot %s -> %s (%s) at %s: %s%n",
                m.fromSlot(),
                m.toSlot(),
                m.toVersion(),
                m.at(),
                m.note() != null
                    ? m.note()
                    : String.format(
                        "%d node entries kept, %d from the new version, %d conflicts",
                        m.kept().size(), m.fromNewVersion(), m.conflicts().size())));
        m.conflicts()
            .forEach(c -> b.append("  conflict:    ").append(c).append(System.lineSeparator()));
      }
      return b.toString();
    }
  }
}
