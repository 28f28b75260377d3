package dev.kubeos.oci.source;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How payloads are fetched.
 *
 * @param insecure allow plain {@code http://} (flagSafe / --insecure)
 * @param caCert PEM file with the CA certificate(s) to trust for https, or null for the JDK default
 *     trust store
 * @param clientCert PEM client certificate (chain) for mTLS, or null
 * @param clientKey PEM private key of {@code clientCert} (PKCS#1, PKCS#8 or EC), or null
 * @param connectTimeout TCP/TLS connect timeout
 * @param readTimeout longest silence tolerated while waiting for response headers or body bytes
 * @param limits overall deadline and minimum rate of each download ({@link DownloadLimits#DEFAULTS}
 *     when null)
 */
public record FetchOptions(
    boolean insecure,
    Path caCert,
    Path clientCert,
    Path clientKey,
    Duration connectTimeout,
    Duration readTimeout,
    DownloadLimits limits) {

  public FetchOptions {
    if ((clientCert == null) != (clientKey == null)) {
      throw new IllegalArgumentException("clientCert and clientKey must be given together");
    }
    connectTimeout = connectTimeout == null ? Duration.ofSeconds(30) : connectTimeout;
    readTimeout = readTimeout == null ? Duration.ofSeconds(60) : readTimeout;
    limits = limits == null ? DownloadLimits.DEFAULTS : limits;
  }

  /** With the default download limits. */
  public FetchOptions(
      boolean insecure,
      Path caCert,
      Path clientCert,
      Path clientKey,
      Duration connectTimeout,
      Duration readTimeout) {
    this(insecure, caCert, clientCert, clientKey, connectTimeout, readTimeout, null);
  }

  /**
   * https only, default trust, no client certificate, 30 s connect / 60 s read timeouts, default
   * download limits.
   */
  public static FetchOptions defaults() {
    return new FetchOptions(false, null, null, null, null, null);
  }

  public FetchOptions withInsecure(boolean allowHttp) {
    return new FetchOptions(
        allowHttp, caCert, clientCert, clientKey, connectTimeout, readTimeout, limits);
  }

  public FetchOptions withCaCert(Path ca) {
    return new FetchOptions(
        insecure, ca, clientCert, clientKey, connectTimeout, readTimeout, limits);
  }

  public FetchOptions withClientCert(Path cert, Path key) {
    return new FetchOptions(insecure, caCert, cert, key, connectTimeout, readTimeout, limits);
  }

  public FetchOptions withLimits(DownloadLimits l) {
    return new FetchOptions(
        insecure, caCert, clientCert, clientKey, connectTimeout, readTimeout, l);
  }

  public FetchOptions withTimeouts(Duration connect, Duration read) {
    return new FetchOptions(insecure, caCert, clientCert, clientKey, connect, read, limits);
  }
}
