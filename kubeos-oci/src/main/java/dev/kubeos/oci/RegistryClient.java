package dev.kubeos.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.http.MultiRangeResponse;
import dev.kubeos.oci.http.TlsContexts;
import dev.kubeos.oci.model.AuthChallenge;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.DockerConfig;
import dev.kubeos.oci.model.HostsConfig;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.model.ManifestDocument;
import dev.kubeos.oci.model.MediaTypes;
import dev.kubeos.oci.model.RegistryCredentials;
import dev.kubeos.oci.model.RegistryEndpoint;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.oci.source.PayloadSource;
import dev.kubeos.oci.source.RangeSource;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A streaming client of one registry's OCI Distribution API: manifests (OCI and Docker schema 2),
 * blobs by Range, HEAD, and monolithic pushes. It owns transport, auth (anonymous, Basic, Bearer
 * tokens cached per scope) and mirrors (containerd {@code hosts.toml}: mirrors first, then the
 * registry). Credentials never appear in messages.
 *
 * <p>Uses {@link HttpURLConnection} like the https payload source (faster blocking reads into the
 * caller's buffer), with redirects followed by hand so no Authorization header leaves the registry.
 */
public final class RegistryClient {
  private static final System.Logger LOG = System.getLogger("kubeos.agent.oci");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
  private static final int MAX_REDIRECTS = 5;

  private final String registry;
  private final List<RegistryEndpoint> endpoints;
  private final DockerConfig docker;
  private final FetchOptions fetch;
  private final RegistryOptions options;
  private final Map<String, String> authorization = new ConcurrentHashMap<>();
  private final Map<RegistryEndpoint, SSLSocketFactory> tls = new HashMap<>();

  RegistryClient(
      String registry,
      List<RegistryEndpoint> endpoints,
      DockerConfig docker,
      FetchOptions fetch,
      RegistryOptions options) {
    this.registry = registry;
    this.endpoints = endpoints;
    this.docker = docker;
    this.fetch = fetch;
    this.options = options;
  }

  /**
   * A client for the registry of {@code ref}, configured from the node's hosts.toml and docker
   * config (both optional).
   *
   * @param fetch {@code insecure()} = --insecure-registry (plain http to the registry itself); its
   *     CA and client certificate apply where hosts.toml names none
   */
  public static RegistryClient forImage(
      ImageReference ref, RegistryOptions options, FetchOptions fetch) {
    List<RegistryEndpoint> endpoints = HostsConfig.defaults(ref, fetch.insecure());
    for (String dirName : List.of(ref.registry(), "_default")) {
      Path dir = options.hostsDir().resolve(dirName);
      Path file = dir.resolve("hosts.toml");
      if (Files.isRegularFile(file)) {
        endpoints = HostsConfig.parse(read(file), dir, ref, fetch.insecure());
        break;
      }
    }
    DockerConfig docker =
        Files.isRegularFile(options.dockerConfig())
            ? DockerConfig.parse(read(options.dockerConfig()), options.dockerConfig().toString())
            : DockerConfig.empty();
    return new RegistryClient(ref.registry(), endpoints, docker, fetch, options);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new AgentException(ErrorCode.IO_ERROR, "cannot read " + file + ": " + e.getMessage());
    }
  }

  /** The endpoints tried, in order (mirrors, then the registry). */
  public List<RegistryEndpoint> endpoints() {
    return endpoints;
  }

  /** A manifest and the exact bytes it was served as. */
  public record FetchedManifest(ManifestDocument document, byte[] bytes, String from) {}

  /**
   * GETs a manifest by tag or digest.
   *
   * @throws AgentException DOWNLOAD_FAILED (404, auth, network), PAYLOAD_INVALID, UNSUPPORTED
   */
  public FetchedManifest manifest(String repository, String reference) {
    return fetchManifest(repository, reference, false).orElseThrow();
  }

  /**
   * GETs a manifest that may not exist (a signature tag): empty when every endpoint answers 404.
   *
   * @throws AgentException DOWNLOAD_FAILED (auth, network, other statuses), PAYLOAD_INVALID
   */
  public java.util.Optional<FetchedManifest> manifestIfPresent(String repository, String tag) {
    return fetchManifest(repository, tag, true);
  }

  private java.util.Optional<FetchedManifest> fetchManifest(
      String repository, String reference, boolean absentIsEmpty) {
    boolean byDigest = reference.startsWith("sha256:");
    String what = registry + "/" + repository + (byDigest ? "@" : ":") + reference;
    String scope = byDigest ? "pull" : "resolve";
    return onEndpoints(
        scope,
        what,
        ep -> {
          HttpURLConnection c =
              send(
                  ep,
                  "GET",
                  "/" + repository + "/manifests/" + reference,
                  pull(repository),
                  Map.of("Accept", MediaTypes.MANIFEST_ACCEPT),
                  null,
                  0);
          try {
            int status = c.getResponseCode();
            if (absentIsEmpty && status == 404 && isLast(ep, scope)) {
              return java.util.Optional.<FetchedManifest>empty();
            }
            if (status != 200) {
              throw statusError(ep, c, "GET manifest of " + what);
            }
            byte[] body = readLimited(c.getInputStream(), 4 << 20, what);
            ManifestDocument doc =
                ManifestDocument.parse(body, c.getContentType(), "the manifest of " + what);
            if (byDigest && !doc.digest().equals(Sha256.parse(reference))) {
              throw new AgentException(
                  ErrorCode.CHECKSUM_MISMATCH,
                  ep.host() + " served " + doc.digest() + " for manifest " + what);
            }
            return java.util.Optional.of(new FetchedManifest(doc, body, ep.host()));
          } finally {
            c.disconnect();
          }
        });
  }

  /**
   * A small blob (a signature payload, a config) read whole, at most {@code limit} bytes; null when
   * every endpoint answers 404. The caller checks its digest.
   */
  public byte[] smallBlob(String repository, Sha256 digest, int limit) {
    String what = registry + "/" + repository + "@" + digest;
    return onEndpoints(
        "pull",
        what,
        ep -> {
          HttpURLConnection c =
              send(
                  ep,
                  "GET",
                  "/" + repository + "/blobs/" + digest,
                  pull(repository),
                  Map.of(),
                  null,
                  0);
          try {
            int status = c.getResponseCode();
            if (status == 404 && isLast(ep, "pull")) {
              return null;
            }
            if (status != 200) {
              throw statusError(ep, c, "GET blob " + what);
            }
            return readLimited(c.getInputStream(), limit, "blob " + what);
          } finally {
            c.disconnect();
          }
        });
  }

  /**
   * Bytes {@code offset .. offset+length-1} of a blob by one Range request (206 and a matching
   * Content-Range required). The stream may end early when the connection breaks.
   */
  public InputStream range(String repository, Sha256 digest, long offset, long length) {
    String range = "bytes=" + offset + "-" + (offset + length - 1);
    return rangeGet(
        repository,
        digest,
        range,
        (ep, c, what) -> {
          int status = c.getResponseCode();
          if (status != 206) {
            throw statusError(
                ep,
                c,
                "GET "
                    + what
                    + " "
                    + range
                    + (status == 200 ? " (the registry ignored the Range header)" : ""));
          }
          String cr = c.getHeaderField("Content-Range");
          Matcher m = CONTENT_RANGE.matcher(cr == null ? "" : cr.trim());
          if (!m.matches()
              || Long.parseLong(m.group(1)) != offset
              || Long.parseLong(m.group(2)) != offset + length - 1) {
            throw new AgentException(
                ErrorCode.DOWNLOAD_FAILED,
                "GET " + what + " " + range + " answered Content-Range '" + cr + "'");
          }
          // closing the stream (not disconnect) hands a fully read connection back to the
          // JDK's keep-alive cache: a delta makes dozens of range requests to the same registry
          return c.getInputStream();
        });
  }

  /**
   * Several ranges of a blob in one request, answered as {@code multipart/byteranges} by
   * docker-registry (Go's {@code http.ServeContent}) and most servers. Returns null when the
   * registry, or the storage it redirects to (S3 takes one range per request), ignored or refused
   * the ranges (200 or 416): the caller then asks span by span.
   */
  public RangeSource.Spans ranges(String repository, Sha256 digest, List<RangeSource.Span> spans) {
    return rangeGet(
        repository,
        digest,
        MultiRangeResponse.header(spans),
        (ep, c, what) -> {
          int status = c.getResponseCode();
          if (status == 206) {
            return MultiRangeResponse.of(c, spans);
          }
          if (status == 200 || status == 416) {
            c.disconnect();
            return null;
          }
          throw statusError(ep, c, "GET " + what + " (" + spans.size() + " ranges)");
        });
  }

  /** Reads the answer to a blob GET with a Range header; disconnects when that fails. */
  private interface RangeAnswer<T> {
    T read(RegistryEndpoint ep, HttpURLConnection c, String what) throws IOException;
  }

  private <T> T rangeGet(String repository, Sha256 digest, String range, RangeAnswer<T> answer) {
    String what = registry + "/" + repository + "@" + digest;
    return onEndpoints(
        "pull",
        what,
        ep -> {
          HttpURLConnection c =
              send(
                  ep,
                  "GET",
                  "/" + repository + "/blobs/" + digest,
                  pull(repository),
                  Map.of("Range", range),
                  null,
                  0);
          try {
            return answer.read(ep, c, what);
          } catch (IOException | RuntimeException e) {
            c.disconnect();
            throw e;
          }
        });
  }

  private boolean isLast(RegistryEndpoint ep, String capability) {
    RegistryEndpoint last = null;
    for (RegistryEndpoint e : endpoints) {
      if (e.can(capability)) {
        last = e;
      }
    }
    return ep.equals(last);
  }

  /**
   * The blob as a resumable source: the first open picks the first endpoint that serves it (mirrors
   * first), resumes ask the same endpoint with {@code Range: bytes=<offset>-}.
   */
  public PayloadSource blob(String repository, Descriptor blob) {
    return new BlobSource(repository, blob);
  }

  /** HEAD on a blob: whether the registry (or a mirror) has it. */
  public boolean hasBlob(String repository, Sha256 digest) {
    String what = registry + "/" + repository + "@" + digest;
    return onEndpoints(
        "pull",
        what,
        ep -> {
          HttpURLConnection c =
              send(
                  ep,
                  "HEAD",
                  "/" + repository + "/blobs/" + digest,
                  pull(repository),
                  Map.of(),
                  null,
                  0);
          try {
            int status = c.getResponseCode();
            if (status == 404) {
              return false;
            }
            if (status != 200) {
              throw statusError(ep, c, "HEAD blob " + what);
            }
            return true;
          } finally {
            c.disconnect();
          }
        });
  }

  /** Uploads {@code content} as one blob (POST, then monolithic PUT), unless it is there. */
  public Descriptor pushBlob(String repository, byte[] content, String mediaType) {
    Sha256 digest = ManifestDocument.sha256(content);
    Descriptor d = new Descriptor(mediaType, digest, content.length, null);
    pushBlob(repository, d, Body.of(content));
    return d;
  }

  /** Uploads a file as one blob whose digest and size the caller computed. */
  public Descriptor pushBlob(String repository, Path file, Sha256 digest, String mediaType)
      throws IOException {
    Descriptor d = new Descriptor(mediaType, digest, Files.size(file), null);
    pushBlob(repository, d, Body.of(file));
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
    pushBlob(repository, d, new Body(null, null, d.size(), writer));
    return d;
  }

  private void pushBlob(String repository, Descriptor d, Body body) {
    if (hasBlob(repository, d.digest())) {
      return;
    }
    String what = registry + "/" + repository + "@" + d.digest();
    onEndpoints(
        "push",
        what,
        ep -> {
          HttpURLConnection post =
              send(
                  ep,
                  "POST",
                  "/" + repository + "/blobs/uploads/",
                  push(repository),
                  Map.of(),
                  Body.EMPTY,
                  0);
          String location;
          try {
            if (post.getResponseCode() != 202) {
              throw statusError(ep, post, "POST blob upload to " + repository);
            }
            location = post.getHeaderField("Location");
          } finally {
            post.disconnect();
          }
          if (location == null) {
            throw new AgentException(
                ErrorCode.DOWNLOAD_FAILED, ep.host() + " gave no Location for the blob upload");
          }
          URI upload = ep.api().resolve(location);
          String sep = upload.getRawQuery() == null ? "?" : "&";
          URI put = URI.create(upload + sep + "digest=" + enc(d.digest().toString()));
          HttpURLConnection c =
              sendTo(
                  ep,
                  put,
                  "PUT",
                  push(repository),
                  Map.of("Content-Type", "application/octet-stream"),
                  body,
                  0);
          try {
            if (c.getResponseCode() != 201) {
              throw statusError(ep, c, "PUT blob " + d.digest());
            }
          } finally {
            c.disconnect();
          }
          return d;
        });
  }

  /** PUTs a manifest under {@code tag}; returns its digest. */
  public Sha256 pushManifest(String repository, String tag, byte[] manifest, String mediaType) {
    Sha256 digest = ManifestDocument.sha256(manifest);
    String what = registry + "/" + repository + ":" + tag;
    return onEndpoints(
        "push",
        what,
        ep -> {
          HttpURLConnection c =
              send(
                  ep,
                  "PUT",
                  "/" + repository + "/manifests/" + tag,
                  push(repository),
                  Map.of("Content-Type", mediaType),
                  Body.of(manifest),
                  0);
          try {
            if (c.getResponseCode() != 201) {
              throw statusError(ep, c, "PUT manifest " + what);
            }
          } finally {
            c.disconnect();
          }
          return digest;
        });
  }

  // ---------------------------------------------------------------------------------------------

  @FunctionalInterface
  private interface EndpointCall<T> {
    T call(RegistryEndpoint ep) throws IOException;
  }

  /** Tries the endpoints with {@code capability} in order; the last one's failure is thrown. */
  private <T> T onEndpoints(String capability, String what, EndpointCall<T> call) {
    List<RegistryEndpoint> usable = new ArrayList<>();
    for (RegistryEndpoint ep : endpoints) {
      if (ep.can(capability)) {
        usable.add(ep);
      }
    }
    if (usable.isEmpty()) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "no endpoint of " + registry + " has the '" + capability + "' capability in hosts.toml");
    }
    List<String> skipped = new ArrayList<>();
    for (int i = 0; i < usable.size(); i++) {
      RegistryEndpoint ep = usable.get(i);
      boolean last = i == usable.size() - 1;
      try {
        return call.call(ep);
      } catch (IOException e) {
        AgentException failed = networkError(ep, what, e);
        if (last) {
          throw withSkipped(failed, skipped);
        }
        skipped.add(ep.host() + ": " + failed.getMessage());
      } catch (AgentException e) {
        if (last || e.code() == ErrorCode.CHECKSUM_MISMATCH || e.code() == ErrorCode.UNSUPPORTED) {
          throw withSkipped(e, skipped);
        }
        skipped.add(ep.host() + ": " + e.getMessage());
      }
      LOG.log(System.Logger.Level.INFO, "mirror " + ep.host() + " failed for " + what + "; next");
    }
    throw new IllegalStateException("unreachable");
  }

  private static AgentException withSkipped(AgentException e, List<String> skipped) {
    if (skipped.isEmpty()) {
      return e;
    }
    return new AgentException(
        e.code(), e.getMessage() + " (mirrors tried first: " + String.join("; ", skipped) + ")", e);
  }

  private static AgentException networkError(RegistryEndpoint ep, String what, IOException e) {
    String hint =
        e instanceof SSLException
            ? " (TLS: check the node CA, hosts.toml 'ca', or --insecure-registry for a plain-http"
                + " registry)"
            : "";
    return new AgentException(
        ErrorCode.DOWNLOAD_FAILED,
        "registry " + ep.api() + " unreachable for " + what + ": " + e + hint,
        e);
  }

  private String pull(String repository) {
    return "repository:" + repository + ":pull";
  }

  private String push(String repository) {
    return "repository:" + repository + ":pull,push";
  }

  /** A request body that can be sent again (after an auth challenge). */
  private record Body(byte[] bytes, Path file, long streamLength, BlobWriter writer) {
    static final Body EMPTY = new Body(new byte[0], null, 0, null);

    static Body of(byte[] b) {
      return new Body(b, null, 0, null);
    }

    static Body of(Path f) {
      return new Body(null, f, 0, null);
    }

    long length() throws IOException {
      return bytes != null ? bytes.length : file != null ? Files.size(file) : streamLength;
    }

    void writeTo(OutputStream out) throws IOException {
      if (bytes != null) {
        out.write(bytes);
      } else if (file != null) {
        Files.copy(file, out);
      } else {
        writer.writeTo(out);
      }
    }
  }

  private HttpURLConnection send(
      RegistryEndpoint ep,
      String method,
      String path,
      String scope,
      Map<String, String> headers,
      Body body,
      long rangeFrom)
      throws IOException {
    return sendTo(ep, URI.create(ep.api() + path), method, scope, headers, body, rangeFrom);
  }

  /** One request with auth: a 401 is answered once (Basic or a Bearer token for the scope). */
  private HttpURLConnection sendTo(
      RegistryEndpoint ep,
      URI uri,
      String method,
      String scope,
      Map<String, String> headers,
      Body body,
      long rangeFrom)
      throws IOException {
    String key = ep.host() + " " + scope;
    for (int attempt = 0; ; attempt++) {
      HttpURLConnection c = open(ep, uri, method, headers, authorization.get(key), body, rangeFrom);
      if (c.getResponseCode() != 401) {
        return c;
      }
      AuthChallenge challenge =
          AuthChallenge.parse(c.getHeaderField("WWW-Authenticate")).orElse(null);
      c.disconnect();
      if (attempt > 0 || challenge == null) {
        throw unauthorized(ep, scope);
      }
      authorization.put(key, authorize(ep, challenge, scope));
    }
  }

  private HttpURLConnection open(
      RegistryEndpoint ep,
      URI uri,
      String method,
      Map<String, String> headers,
      String auth,
      Body body,
      long rangeFrom)
      throws IOException {
    URI target = uri;
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      HttpURLConnection c = (HttpURLConnection) target.toURL().openConnection();
      if (c instanceof HttpsURLConnection https) {
        https.setSSLSocketFactory(tls(ep));
        if (ep.skipVerify()) {
          https.setHostnameVerifier((h, s) -> true);
        }
      }
      c.setConnectTimeout(Math.toIntExact(fetch.connectTimeout().toMillis()));
      c.setReadTimeout(Math.toIntExact(fetch.readTimeout().toMillis()));
      c.setInstanceFollowRedirects(false);
      c.setUseCaches(false);
      c.setRequestMethod(method);
      c.setRequestProperty("Accept-Encoding", "identity");
      c.setRequestProperty("User-Agent", "kubeos-agent");
      headers.forEach(c::setRequestProperty);
      if (auth != null && hop == 0) {
        c.setRequestProperty("Authorization", auth);
      }
      if (rangeFrom > 0) {
        c.setRequestProperty("Range", "bytes=" + rangeFrom + "-");
      }
      if (body != null && hop == 0) {
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(body.length());
        try (OutputStream out = c.getOutputStream()) {
          body.writeTo(out);
        }
      }
      int status = c.getResponseCode();
      if (status < 300
          || status > 308
          || status == 304
          || !method.equals("GET") && !method.equals("HEAD")) {
        return c;
      }
      String location = c.getHeaderField("Location");
      c.disconnect();
      if (location == null) {
        throw new IOException("redirect " + status + " without Location");
      }
      URI next = target.resolve(location);
      if ("https".equals(target.getScheme()) && !"https".equals(next.getScheme())) {
        throw new AgentException(
            ErrorCode.DOWNLOAD_FAILED,
            ep.host() + " redirected from https to " + next.getScheme() + "; refused");
      }
      target = next;
    }
    throw new IOException("more than " + MAX_REDIRECTS + " redirects");
  }

  private synchronized SSLSocketFactory tls(RegistryEndpoint ep) {
    return tls.computeIfAbsent(
        ep,
        e -> {
          if (e.skipVerify()) {
            return trustAll();
          }
          FetchOptions f = fetch;
          if (!e.caCerts().isEmpty()) {
            f = f.withCaCert(e.caCerts().get(0));
          }
          if (e.clientCert() != null) {
            f = f.withClientCert(e.clientCert(), e.clientKey());
          }
          return TlsContexts.build(f).getSocketFactory();
        });
  }

  private static SSLSocketFactory trustAll() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(
          null,
          new TrustManager[] {
            new X509TrustManager() {
              @Override
              public void checkClientTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public void checkServerTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
              }
            }
          },
          new SecureRandom());
      return ctx.getSocketFactory();
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The Authorization header value answering {@code challenge}. */
  private String authorize(RegistryEndpoint ep, AuthChallenge challenge, String scope)
      throws IOException {
    RegistryCredentials credentials = credentials(ep);
    if (credentials.helper() != null && !credentials.present()) {
      throw new AgentException(
          ErrorCode.UNSUPPORTED,
          "registry "
              + ep.host()
              + " asks for credentials and "
              + credentials.source()
              + " delegates them to the credential helper docker-credential-"
              + credentials.helper()
              + ", which this agent does not run; put an 'auths' entry for "
              + credentialsKey(ep)
              + " into the docker config instead");
    }
    if (!challenge.bearer()) {
      if (!credentials.present()) {
        throw unauthorized(ep, scope);
      }
      return basic(credentials);
    }
    String realm = challenge.param("realm");
    if (realm == null || realm.isBlank()) {
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED, ep.host() + " sent a Bearer challenge without a realm");
    }
    URI realmUri = URI.create(realm);
    boolean plain = !"https".equals(realmUri.getScheme());
    if (plain && "https".equals(ep.api().getScheme())) {
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED,
          ep.host() + " sends token requests to a non-https realm " + realm + "; refused");
    }
    StringBuilder q = new StringBuilder();
    if (challenge.param("service") != null) {
      q.append("service=").append(enc(challenge.param("service")));
    }
    String wanted = challenge.param("scope") != null ? challenge.param("scope") : scope;
    q.append(q.length() > 0 ? "&" : "").append("scope=").append(enc(wanted));
    URI tokenUri = URI.create(realm + (realm.contains("?") ? "&" : "?") + q);
    HttpURLConnection c = (HttpURLConnection) tokenUri.toURL().openConnection();
    if (c instanceof HttpsURLConnection https) {
      https.setSSLSocketFactory(tls(ep));
    }
    c.setConnectTimeout(Math.toIntExact(fetch.connectTimeout().toMillis()));
    c.setReadTimeout(Math.toIntExact(fetch.readTimeout().toMillis()));
    c.setInstanceFollowRedirects(false);
    if (credentials.present()) {
      c.setRequestProperty("Authorization", basic(credentials));
    }
    try {
      int status = c.getResponseCode();
      if (status != 200) {
        throw new AgentException(
            ErrorCode.DOWNLOAD_FAILED,
            "token service "
                + realmUri.getHost()
                + (realmUri.getPort() >= 0 ? ":" + realmUri.getPort() : "")
                + " answered "
                + status
                + " for scope '"
                + wanted
                + "' "
                + (credentials.present()
                    ? "with " + credentials
                    : "without credentials (no entry for "
                        + credentialsKey(ep)
                        + " in the docker config)"));
      }
      JsonNode json = JSON.readTree(readLimited(c.getInputStream(), 1 << 20, "token"));
      String token = json.path("token").asText(json.path("access_token").asText(""));
      if (token.isEmpty()) {
        throw new AgentException(
            ErrorCode.DOWNLOAD_FAILED,
            "token service " + realmUri.getHost() + " returned no token");
      }
      return "Bearer " + token;
    } finally {
      c.disconnect();
    }
  }

  /**
   * The credentials for an endpoint: the registry's own for the registry, the mirror host's for a
   * mirror (a mirror never sees the registry's password).
   */
  private RegistryCredentials credentials(RegistryEndpoint ep) {
    return docker.credentialsFor(credentialsKey(ep));
  }

  private String credentialsKey(RegistryEndpoint ep) {
    return ep.mirror() ? ep.host() : registry;
  }

  private static String basic(RegistryCredentials credentials) {
    String pair = credentials.username() + ":" + credentials.password();
    return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
  }

  private AgentException unauthorized(RegistryEndpoint ep, String scope) {
    RegistryCredentials credentials = credentials(ep);
    String msg =
        "registry "
            + ep.host()
            + " answered 401 Unauthorized for '"
            + scope
            + "': "
            + (credentials.present()
                ? "it refused the " + credentials
                : "no credentials for "
                    + credentialsKey(ep)
                    + " in "
                    + options.dockerConfig()
                    + "; add an auths entry (auth = base64 of user:password) for it");
    return new AgentException(ErrorCode.DOWNLOAD_FAILED, msg);
  }

  private AgentException statusError(RegistryEndpoint ep, HttpURLConnection c, String what)
      throws IOException {
    int status = c.getResponseCode();
    String detail = "";
    InputStream err = c.getErrorStream();
    if (err != null) {
      try (err) {
        JsonNode json = JSON.readTree(readLimited(err, 64 << 10, "error"));
        JsonNode first = json.path("errors").path(0);
        if (first.isObject()) {
          detail = " " + first.path("code").asText("") + ": " + first.path("message").asText("");
        }
      } catch (IOException | AgentException ignored) {
        // not a registry error document
      }
    }
    String hint =
        status == 404
            ? " (check the image name, tag and registry)"
            : status >= 500 ? " (registry-side error; retry later)" : "";
    return new AgentException(
        ErrorCode.DOWNLOAD_FAILED, what + ": " + ep.host() + " answered " + status + detail + hint);
  }

  private static byte[] readLimited(InputStream in, int limit, String what) throws IOException {
    try (in) {
      byte[] b = in.readNBytes(limit + 1);
      if (b.length > limit) {
        throw new AgentException(
            ErrorCode.PAYLOAD_INVALID, what + " is larger than " + limit + " bytes");
      }
      return b;
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** A blob download; resumes stay on the endpoint that answered the first GET. */
  private final class BlobSource implements PayloadSource {
    private final String repository;
    private final Descriptor blob;
    private final String what;
    private RegistryEndpoint chosen;

    BlobSource(String repository, Descriptor blob) {
      this.repository = repository;
      this.blob = blob;
      this.what = registry + "/" + repository + "@" + blob.digest();
    }

    @Override
    public String describe() {
      return "blob " + what + (chosen != null && chosen.mirror() ? " via " + chosen.host() : "");
    }

    @Override
    public boolean supportsResume() {
      return true;
    }

    @Override
    public Opened open(long offset) throws IOException {
      if (offset == 0 || chosen == null) {
        return onEndpoints(
            "pull",
            what,
            ep -> {
              Opened o = get(ep, offset);
              chosen = ep;
              return o;
            });
      }
      return get(chosen, offset); // an IOException here is retried by the caller
    }

    private Opened get(RegistryEndpoint ep, long offset) throws IOException {
      HttpURLConnection c =
          send(
              ep,
              "GET",
              "/" + repository + "/blobs/" + blob.digest(),
              pull(repository),
              Map.of(),
              null,
              offset);
      try {
        int status = c.getResponseCode();
        if (offset == 0 && status != 200 || offset > 0 && status != 206) {
          throw statusError(
              ep, c, "GET " + describe() + (offset > 0 ? " from byte " + offset : ""));
        }
        if (offset > 0) {
          String cr = c.getHeaderField("Content-Range");
          Matcher m = CONTENT_RANGE.matcher(cr == null ? "" : cr.trim());
          if (!m.matches() || Long.parseLong(m.group(1)) != offset) {
            throw new AgentException(
                ErrorCode.DOWNLOAD_FAILED,
                "GET " + what + " from byte " + offset + " answered Content-Range '" + cr + "'");
          }
        }
        InputStream body =
            new FilterInputStream(c.getInputStream()) {
              @Override
              public void close() {
                c.disconnect();
              }
            };
        return new Opened(body, OptionalLong.of(blob.size()));
      } catch (IOException | RuntimeException e) {
        c.disconnect();
        throw e;
      }
    }
  }
}
