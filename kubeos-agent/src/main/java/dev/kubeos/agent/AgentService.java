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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
  private final List<Path> fileUrlDirs;
  private final DownloadLimits downloadLimits;
  private final AtomicInteger pendingReboots = new AtomicInteger();
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
    this(agent, rebooter, certDir, rebootDelay, List.of(), DownloadLimits.DEFAULTS);
  }

  /**
   * @param fileUrlDirs the directories whose files a {@code file://} image_url may name over the
   *     socket (empty: no {@code file://} at all). Anything else would let a caller learn the size
   *     and SHA-256 of any root-readable file from the answers.
   */
  public AgentService(
      Agent agent, Rebooter rebooter, Path certDir, Duration rebootDelay, List<Path> fileUrlDirs) {
    this(agent, rebooter, certDir, rebootDelay, fileUrlDirs, DownloadLimits.DEFAULTS);
  }

  /**
   * @param fileUrlDirs as above
   * @param downloadLimits the overall deadline and minimum rate of every download a request starts
   *     (the daemon's {@code --download-*} options)
   */
  public AgentService(
      Agent agent,
      Rebooter rebooter,
      Path certDir,
      Duration rebootDelay,
      List<Path> fileUrlDirs,
      DownloadLimits downloadLimits) {
    this.downloadLimits = downloadLimits;
    this.agent = agent;
    this.rebooter = rebooter;
    this.certDir = certDir;
    this.rebootDelay = rebootDelay;
    this.fileUrlDirs = List.copyOf(fileUrlDirs);
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
    checkFileUrl(url);
    return new StageRequest(url, r.checkSum(), r.version(), format, fetchOptions(r, true));
  }

  /**
   * A {@code file://} URL must name a file under one of {@link #fileUrlDirs}, symlinks resolved;
   * other schemes are left to the payload sources (http, https).
   */
  private void checkFileUrl(URI url) {
    if (url.getScheme() == null || !"file".equalsIgnoreCase(url.getScheme())) {
      return;
    }
    Path file;
    try {
      file = Path.of(url).toAbsolutePath().normalize();
      file = Files.exists(file) ? file.toRealPath() : file;
    } catch (IllegalArgumentException | IOException | java.nio.file.FileSystemNotFoundException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "image_url is not a usable file URL: " + e.getMessage());
    }
    for (Path dir : fileUrlDirs) {
      Path root;
      try {
        root = dir.toRealPath();
      } catch (IOException missing) {
        continue;
      }
      if (file.startsWith(root) && !file.equals(root)) {
        return;
      }
    }
    throw new AgentException(
        ErrorCode.POLICY_DENIED,
        "file:// image_url is refused over the socket unless it names a file under "
            + (fileUrlDirs.isEmpty()
                ? "a configured directory (none is: agent serve --file-url-dir)"
                : fileUrlDirs
                    + " (agent serve --file-url-dir); serve the payload over http(s) instead"));
  }

  /**
   * Upstream's container-image types: {@code container_image} is pulled by the agent itself (no
   * docker or ctr on the node), {@code check_sum} is its manifest digest, {@code flag_safe} allows
   * a plain-http registry, {@code certs.ca_cert} is trusted where hosts.toml names no CA. {@code
   * mtls} without client certificates is not refused here: upstream documents {@code mtls} for
   * {@code image_url} over https only, and its container-image examples set it anyway; a registry's
   * client certificates come from its hosts.toml.
   */
  private StageRequest imageRequest(UpgradeRequest r, String type) {
    if (r.containerImage() == null || r.containerImage().isBlank()) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "container_image is required for image_type " + type);
    }
    FetchOptions fetch = fetchOptions(r, false);
    return StageRequest.image(r.containerImage().trim(), r.checkSum(), r.version(), fetch);
  }

  private FetchOptions fetchOptions(UpgradeRequest r, boolean mtlsNeedsCerts) {
    UpgradeRequest.Certs certs = r.certs();
    Path ca = certs == null ? null : cert(certs.caCert());
    Path clientCert = r.mtls() && certs != null ? cert(certs.clientCert()) : null;
    Path clientKey = r.mtls() && certs != null ? cert(certs.clientKey()) : null;
    if (!mtlsNeedsCerts && (clientCert == null || clientKey == null)) {
      clientCert = null;
      clientKey = null;
    } else if (r.mtls() && (clientCert == null || clientKey == null)) {
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

  /**
   * True while work that outlives its request is pending: a reboot answered but not yet done. A
   * socket-activated daemon must not end itself (idle exit) then.
   */
  public boolean busy() {
    return pendingReboots.get() > 0;
  }

  private void scheduleReboot(String reason) {
    pendingReboots.incrementAndGet();
    scheduler.schedule(
        () -> {
          try {
            rebooter.reboot(reason);
          } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "reboot failed: " + e.getMessage(), e);
          } finally {
            pendingReboots.decrementAndGet();
          }
        },
        rebootDelay.toMillis(),
        TimeUnit.MILLISECONDS);
  }
}
