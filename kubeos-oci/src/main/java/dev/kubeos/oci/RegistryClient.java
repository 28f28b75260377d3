package dev.kubeos.oci;

import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.http.DownloadBudget;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.model.ManifestDocument;
import dev.kubeos.oci.model.RegistryEndpoint;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.oci.source.PayloadSource;
import dev.kubeos.oci.source.RangeSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A streaming client of one registry's OCI Distribution API, in the manner of Jib's {@code
 * RegistryEndpointProvider}: each operation is its own small class ({@link ManifestPull}, {@link
 * ManifestPush}, {@link BlobCheck}, {@link BlobPull}, {@link RangePull}, {@link BlobPush}) over a
 * shared {@link RegistrySession} that holds the {@link dev.kubeos.oci.http.HttpTransport} per
 * endpoint, auth ({@link TokenAuth}) and mirror failover ({@link MirrorFailover}); the node's
 * hosts.toml and docker config are read by {@link RegistryNodeConfig}. Credentials never appear in
 * messages.
 */
public final class RegistryClient {
  private final RegistrySession session;
  private final ManifestPull manifestPull;
  private final ManifestPush manifestPush;
  private final BlobCheck blobCheck;
  private final BlobPull blobPull;
  private final RangePull rangePull;
  private final BlobPush blobPush;

  private RegistryClient(RegistrySession session) {
    this.session = session;
    this.manifestPull = new ManifestPull(session);
    this.manifestPush = new ManifestPush(session);
    this.blobCheck = new BlobCheck(session);
    this.blobPull = new BlobPull(session);
    this.rangePull = new RangePull(session);
    this.blobPush = new BlobPush(session, blobCheck);
  }

  /**
   * A client for the registry of {@code ref}, configured from the node's hosts.toml and docker
   * config (both optional).
   *
   * @param fetch {@code insecure()} = --insecure-registry (plain http to the registry itself); its
   *     CA and client certificate apply where hosts.toml names none; its download limits hold for
   *     every blob download
   */
  public static RegistryClient forImage(
      ImageReference ref, RegistryOptions options, FetchOptions fetch) {
    RegistryNodeConfig config = RegistryNodeConfig.read(ref, options, fetch.insecure());
    return new RegistryClient(new RegistrySession(ref.registry(), config, fetch, options));
  }

  /** The endpoints tried, in order (mirrors, then the registry). */
  public List<RegistryEndpoint> endpoints() {
    return session.endpointList();
  }

  /** A manifest and the exact bytes it was served as. */
  public record FetchedManifest(ManifestDocument document, byte[] bytes, String from) {}

  /**
   * GETs a manifest by tag or digest.
   *
   * @throws dev.kubeos.api.agent.AgentException DOWNLOAD_FAILED (404, auth, network),
   *     PAYLOAD_INVALID, UNSUPPORTED
   */
  public FetchedManifest manifest(String repository, String reference) {
    return manifestPull.fetch(repository, reference, false).orElseThrow();
  }

  /**
   * GETs a manifest that may not exist (a signature tag): empty when every endpoint answers 404.
   *
   * @throws dev.kubeos.api.agent.AgentException DOWNLOAD_FAILED (auth, network, other statuses),
   *     PAYLOAD_INVALID
   */
  public Optional<FetchedManifest> manifestIfPresent(String repository, String tag) {
    return manifestPull.fetch(repository, tag, true);
  }

  /**
   * A small blob (a signature payload, a config) read whole, at most {@code limit} bytes; null when
   * every endpoint answers 404. The caller checks its digest.
   */
  public byte[] smallBlob(String repository, Sha256 digest, int limit) {
    return blobPull.small(repository, digest, limit);
  }

  /**
   * Bytes {@code offset .. offset+length-1} of a blob by one Range request (206 and a matching
   * Content-Range required). The stream may end early when the connection breaks.
   */
  public InputStream range(String repository, Sha256 digest, long offset, long length) {
    return rangePull.range(repository, digest, offset, length, null);
  }

  /** As {@link #range(String, Sha256, long, long)}, the request and body held to {@code budget}. */
  public InputStream range(
      String repository, Sha256 digest, long offset, long length, DownloadBudget budget) {
    return rangePull.range(repository, digest, offset, length, budget);
  }

  /**
   * Several ranges of a blob in one request, answered as {@code multipart/byteranges} by
   * docker-registry (Go's {@code http.ServeContent}) and most servers. Returns null when the
   * registry, or the storage it redirects to (S3 takes one range per request), ignored or refused
   * the ranges (200 or 416): the caller then asks span by span.
   */
  public RangeSource.Spans ranges(String repository, Sha256 digest, List<RangeSource.Span> spans) {
    return rangePull.ranges(repository, digest, spans, null);
  }

  /** As {@link #ranges(String, Sha256, List)}, the request and body held to {@code budget}. */
  public RangeSource.Spans ranges(
      String repository, Sha256 digest, List<RangeSource.Span> spans, DownloadBudget budget) {
    return rangePull.ranges(repository, digest, spans, budget);
  }

  /** The fetch options' download limits for one download of {@code what}. */
  public DownloadBudget budget(String what) {
    return new DownloadBudget(session.fetch.limits(), what);
  }

  /**
   * The blob as a resumable source: the first open picks the first endpoint that serves it (mirrors
   * first), resumes ask the same endpoint with {@code Range: bytes=<offset>-}.
   */
  public PayloadSource blob(String repository, Descriptor blob) {
    return blobPull.source(repository, blob);
  }

  /** HEAD on a blob: whether the registry (or a mirror) has it. */
  public boolean hasBlob(String repository, Sha256 digest) {
    return blobCheck.exists(repository, digest);
  }

  /** Uploads {@code content} as one blob (POST, then monolithic PUT), unless it is there. */
  public Descriptor pushBlob(String repository, byte[] content, String mediaType) {
    Sha256 digest = ManifestDocument.sha256(content);
    Descriptor d = new Descriptor(mediaType, digest, content.length, null);
    blobPush.push(repository, d, RequestBodies.of(content));
    return d;
  }

  /** Uploads a file as one blob whose digest and size the caller computed. */
  public Descriptor pushBlob(String repository, Path file, Sha256 digest, String mediaType)
      throws IOException {
    Descriptor d = new Descriptor(mediaType, digest, Files.size(file), null);
    blobPush.push(repository, d, RequestBodies.of(file));
    return d;
  }

  /** Writes the content of a streamed blob; called again when a request must be repeated. */
  @FunctionalInterface
  public interface BlobWriter {
    void writeTo(OutputStream out) throws IOException;
  }

  /**
   * Uploads a blob produced by {@code writer} (which must write exactly {@code d.size()} bytes
   * hashing to {@code d.digest()}), unless the registry has it.
   */
  public Descriptor pushBlob(String repository, Descriptor d, BlobWriter writer) {
    blobPush.push(repository, d, RequestBodies.of(d.size(), writer));
    return d;
  }

  /** PUTs a manifest under {@code tag}; returns its digest. */
  public Sha256 pushManifest(String repository, String tag, byte[] manifest, String mediaType) {
    return manifestPush.push(repository, tag, manifest, mediaType);
  }
}
