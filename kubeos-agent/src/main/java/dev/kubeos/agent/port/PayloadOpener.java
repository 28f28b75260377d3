package dev.kubeos.agent.port;

import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.oci.source.PayloadSource;
import java.net.URI;

/** Resolves a payload URL into a source (https, http, file). */
@FunctionalInterface
public interface PayloadOpener {
  PayloadSource open(URI url, FetchOptions options);
}
