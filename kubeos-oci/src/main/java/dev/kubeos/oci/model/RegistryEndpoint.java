package dev.kubeos.oci.model;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * One place a registry's API is served from: a mirror from containerd's {@code hosts.toml} or the
 * registry itself.
 *
 * @param api API root, ending in {@code /v2} (e.g. {@code https://mirror:5000/v2})
 * @param capabilities {@code pull}, {@code resolve}, {@code push}
 * @param caCerts CA certificates to trust (empty: the node's CA, else the JDK's trust store)
 * @param clientCert client certificate for mTLS, or null
 * @param clientKey key of {@code clientCert}, or null
 * @param skipVerify accept any server certificate (only when hosts.toml says so)
 * @param mirror whether this is a mirror (tried before the registry itself)
 */
public record RegistryEndpoint(
    URI api,
    Set<String> capabilities,
    List<Path> caCerts,
    Path clientCert,
    Path clientKey,
    boolean skipVerify,
    boolean mirror) {
  public static final Set<String> ALL = Set.of("pull", "resolve", "push");

  /** {@code host[:port]} of the API root, used to scope credentials and tokens. */
  public String host() {
    return api.getHost() + (api.getPort() >= 0 ? ":" + api.getPort() : "");
  }

  public boolean can(String capability) {
    return capabilities.contains(capability);
  }

  /** The API root for {@code base} ({@code scheme://host[:port][/path]}): {@code .../v2}. */
  public static URI apiRoot(String base, boolean overridePath) {
    String b = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    if (!overridePath && !b.endsWith("/v2")) {
      b = b + "/v2";
    }
    return URI.create(b);
  }
}
