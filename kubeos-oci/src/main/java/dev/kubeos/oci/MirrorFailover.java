package dev.kubeos.oci;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.model.RegistryEndpoint;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * Tries a registry operation on the endpoints that have its capability, in order (hosts.toml
 * mirrors first, then the registry): a failing mirror is skipped and named in the last endpoint's
 * error. A wrong digest or an unsupported request ends the search, since another mirror would not
 * make it right, and so does a download past its limits, which hold for the whole download.
 */
final class MirrorFailover {
  private static final System.Logger LOG = System.getLogger("kubeos.agent.oci");

  private final String registry;
  private final List<RegistryEndpoint> endpoints;

  MirrorFailover(String registry, List<RegistryEndpoint> endpoints) {
    this.registry = registry;
    this.endpoints = endpoints;
  }

  List<RegistryEndpoint> endpoints() {
    return endpoints;
  }

  @FunctionalInterface
  interface EndpointCall<T> {
    T call(RegistryEndpoint ep) throws IOException;
  }

  /** Tries the endpoints with {@code capability} in order; the last one's failure is thrown. */
  <T> T run(String capability, String what, EndpointCall<T> call) {
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
        if (last
            || e.code() == ErrorCode.CHECKSUM_MISMATCH
            || e.code() == ErrorCode.UNSUPPORTED
            || e.code() == ErrorCode.DOWNLOAD_TOO_SLOW) {
          throw withSkipped(e, skipped);
        }
        skipped.add(ep.host() + ": " + e.getMessage());
      }
      LOG.log(System.Logger.Level.INFO, "mirror " + ep.host() + " failed for " + what + "; next");
    }
    throw new IllegalStateException("unreachable");
  }

  /** Whether {@code ep} is the last endpoint with {@code capability} (its 404 is the answer). */
  boolean isLast(RegistryEndpoint ep, String capability) {
    RegistryEndpoint last = null;
    for (RegistryEndpoint e : endpoints) {
      if (e.can(capability)) {
        last = e;
      }
    }
    return ep.equals(last);
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
}
