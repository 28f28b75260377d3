package dev.kubeos.agent;

import dev.kubeos.agent.port.Rebooter;
import dev.kubeos.agent.settings.model.SettingsRequest;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.OperationResult;
import dev.kubeos.api.agent.UpgradeRequest;
import dev.kubeos.oci.source.DownloadLimits;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.rpc.AgentOperations;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Serves upstream KubeOS's socket methods with the agent: {@code prepare_upgrade} stages, {@code
 * upgrade} activates and reboots, {@code rollback} flips the default and reboots.
 */
public final class AgentService implements AgentOperations {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  private final Agent agent;
  private final Rebooter rebooter;
  private final Path certDir;
  private final Duration rebootDelay;
  private final DownloadLimits downloadLimits;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "kubeos-reboot");
            t.setDaemon(true);
            return t;
          });

  /**
   * @param rebootDelay time between answering {@code upgrade}/{@code rollback} and rebooting, so
   *     the caller receives the answer first
   */
  public AgentService(Agent agent, Rebooter rebooter, Path certDir, Duration rebootDelay) {
    this(agent, rebooter, certDir, rebootDelay, DownloadLimits.DEFAULTS);
  }

  /**
   * @param downloadLimits the overall deadline and minimum rate of every download a request starts
   *     (the daemon's {@code --download-*} options)
   */
  public AgentService(
      Agent agent,
      Rebooter rebooter,
      Path certDir,
      Duration rebootDelay,
      DownloadLimits downloadLimits) {
    this.downloadLimits = downloadLimits;
    this.agent = agent;
    this.rebooter = rebooter;
    this.certDir = certDir;
    this.rebootDelay = rebootDelay;
  }

  @Override
  public OperationResult prepareUpgrade(UpgradeRequest request) {
    agent.stage(toStageRequest(request), ProgressListener.NONE);
    return OperationResult.UPGRADE_READY;
  }

  /** Maps upstream's request onto a stage request (image types, flagSafe, mtls certs). */
  StageRequest toStageRequest(UpgradeRequest r) {
    String type = r.imageType() == null ? "" : r.imageType().toLowerCase(Locale.ROOT);
    StageRequest.Format format;
    switch (type) {
      case "disk":
        format = StageRequest.Format.TAR;
        break;
      case "raw":
        format = StageRequest.Format.RAW;
        break;
      case "delta": // image_url is the chunk index; check_sum the image's digest
        format = StageRequest.Format.DELTA;
        break;
      case "docker":
      case "containerd":
        return imageRequest(r, type);
      default:
        throw new AgentException(
            ErrorCode.INVALID_REQUEST,
            "unknown image_type '"
                + r.imageType()
                + "' (expected disk, raw, delta, docker or containerd)");
    }
    if (r.imageUrl() == null || r.imageUrl().isBlank()) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "image_url is required for image_type " + type);
    }
    URI url;
    try {
      url = URI.create(r.imageUrl().trim());
    } catch (IllegalArgumentException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "image_url is not a URL: " + e.getMessage());
    }
    return new StageRequest(url, r.checkSum(), r.version(), format, fetchOptions(r));
  }

  /**
   * Upstream's container-image types: {@code container_image} is pulled by the agent itself (no
   * docker or ctr on the node), {@code check_sum} is its manifest digest, {@code flag_safe} allows
   * a plain-http registry, {@code certs.ca_cert} is trusted where hosts.toml names no CA.
   */
  private StageRequest imageRequest(UpgradeRequest r, String type) {
    if (r.containerImage() == null || r.containerImage().isBlank()) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "container_image is required for image_type " + type);
    }
    FetchOptions fetch = fetchOptions(r);
    return StageRequest.image(r.containerImage().trim(), r.checkSum(), r.version(), fetch);
  }

  private FetchOptions fetchOptions(UpgradeRequest r) {
    UpgradeRequest.Certs certs = r.certs();
    Path ca = certs == null ? null : cert(certs.caCert());
    Path clientCert = r.mtls() && certs != null ? cert(certs.clientCert()) : null;
    Path clientKey = r.mtls() && certs != null ? cert(certs.clientKey()) : null;
    if (r.mtls() && (clientCert == null || clientKey == null)) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "mtls is set but certs.client_cert or certs.client_key is missing");
    }
    return new FetchOptions(r.flagSafe(), ca, clientCert, clientKey, null, null, downloadLimits);
  }

  private Path cert(String name) {
    if (name == null || name.isBlank()) {
      return null;
    }
    Path p = certDir.resolve(name).normalize();
    if (!p.startsWith(certDir.normalize())) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "certificate name '" + name + "' leaves " + certDir);
    }
    return p;
  }

  @Override
  public OperationResult upgrade() {
    agent.activate();
    scheduleReboot("upgrade: boot-once trial of the staged slot");
    return OperationResult.UPGRADED;
  }

  @Override
  public OperationResult rollback() {
    agent.rollback();
    scheduleReboot("rollback to the other slot");
    return OperationResult.ROLLBACKED;
  }

  @Override
  public OperationResult configure(ConfigureRequest request) {
    var result = agent.configure(SettingsRequest.fromSocket(request), false);
    return new OperationResult(OperationResult.CONFIGURED.status(), result.warnings());
  }

  @Override
  public AgentStatus status() {
    return agent.status();
  }

  @Override
  public OperationResult commit() {
    agent.commit();
    return new OperationResult("Committed");
  }

  private void scheduleReboot(String reason) {
    scheduler.schedule(
        () -> {
          try {
            rebooter.reboot(reason);
          } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "reboot failed: " + e.getMessage(), e);
          }
        },
        rebootDelay.toMillis(),
        TimeUnit.MILLISECONDS);
  }
}
