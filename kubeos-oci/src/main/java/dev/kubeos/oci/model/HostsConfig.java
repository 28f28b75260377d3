package dev.kubeos.oci.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * containerd's registry host configuration ({@code certs.d/<host>/hosts.toml}): {@code server} (the
 * registry itself), {@code [host."<url>"]} mirrors tried in file order with their {@code
 * capabilities}, {@code ca}, {@code client} and {@code skip_verify}. Parsed from text; relative
 * certificate paths resolve against the file's directory.
 */
public final class HostsConfig {
  private static final TomlMapper TOML = new TomlMapper();

  private HostsConfig() {}

  /**
   * The endpoints for {@code registry} without a hosts.toml: the registry itself over https, or
   * over http when {@code insecure}.
   */
  public static List<RegistryEndpoint> defaults(ImageReference ref, boolean insecure) {
    return List.of(upstream(ref, insecure, null, List.of(), null, null, false));
  }

  /**
   * Endpoints in the order they are tried: mirrors first, then the server.
   *
   * @param toml the hosts.toml text
   * @param dir the directory holding it (for relative certificate paths)
   * @param insecure --insecure-registry: the default server is http
   */
  public static List<RegistryEndpoint> parse(
      String toml, Path dir, ImageReference ref, boolean insecure) {
    JsonNode root;
    try {
      root = TOML.readTree(toml);
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          dir.resolve("hosts.toml") + " is not valid TOML: " + e.getMessage());
    }
    List<RegistryEndpoint> out = new ArrayList<>();
    JsonNode hosts = root.path("host");
    for (Iterator<Map.Entry<String, JsonNode>> it = hosts.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> h = it.next();
      JsonNode n = h.getValue();
      ClientPair client = client(n.get("client"), dir);
      out.add(
          new RegistryEndpoint(
              RegistryEndpoint.apiRoot(url(h.getKey(), dir), n.path("override_path").asBoolean()),
              capabilities(n.get("capabilities"), dir),
              paths(n.get("ca"), dir),
              client.cert(),
              client.key(),
              n.path("skip_verify").asBoolean(false),
              true));
    }
    ClientPair client = client(root.get("client"), dir);
    String server = root.hasNonNull("server") ? url(root.get("server").asText(), dir) : null;
    out.add(
        upstream(
            ref,
            insecure,
            server,
            paths(root.get("ca"), dir),
            client.cert(),
            client.key(),
            root.path("skip_verify").asBoolean(false)));
    return List.copyOf(out);
  }

  private static RegistryEndpoint upstream(
      ImageReference ref,
      boolean insecure,
      String server,
      List<Path> ca,
      Path cert,
      Path key,
      boolean skipVerify) {
    String base = server != null ? server : (insecure ? "http://" : "https://") + ref.apiHost();
    return new RegistryEndpoint(
        RegistryEndpoint.apiRoot(base, false),
        RegistryEndpoint.ALL,
        ca,
        cert,
        key,
        skipVerify,
        false);
  }

  private static String url(String text, Path dir) {
    URI u;
    try {
      u = URI.create(text.trim());
    } catch (IllegalArgumentException e) {
      throw invalid(dir, "'" + text + "' is not a URL");
    }
    if (u.getScheme() == null
        || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
        || u.getHost() == null) {
      throw invalid(dir, "'" + text + "' is not an http:// or https:// URL with a host");
    }
    return text.trim();
  }

  private static Set<String> capabilities(JsonNode n, Path dir) {
    if (n == null) {
      return RegistryEndpoint.ALL;
    }
    Set<String> caps = new LinkedHashSet<>();
    for (JsonNode c : n) {
      String s = c.asText();
      if (!RegistryEndpoint.ALL.contains(s)) {
        throw invalid(dir, "unknown capability '" + s + "' (pull, resolve, push)");
      }
      caps.add(s);
    }
    return Set.copyOf(caps);
  }

  private static List<Path> paths(JsonNode n, Path dir) {
    if (n == null) {
      return List.of();
    }
    List<Path> out = new ArrayList<>();
    if (n.isArray()) {
      n.forEach(p -> out.add(dir.resolve(p.asText())));
    } else {
      out.add(dir.resolve(n.asText()));
    }
    return List.copyOf(out);
  }

  /** {@code client = "both.pem"}, {@code ["both.pem"]} or {@code [["cert.pem", "key.pem"]]}. */
  private record ClientPair(Path cert, Path key) {}

  private static ClientPair client(JsonNode n, Path dir) {
    JsonNode first = n == null ? null : n.isArray() ? n.get(0) : n;
    if (first == null) {
      return new ClientPair(null, null);
    }
    if (first.isArray()) {
      if (first.size() != 2) {
        throw invalid(dir, "client pairs are [\"cert.pem\", \"key.pem\"]");
      }
      return new ClientPair(dir.resolve(first.get(0).asText()), dir.resolve(first.get(1).asText()));
    }
    Path both = dir.resolve(first.asText());
    return new ClientPair(both, both);
  }

  private static AgentException invalid(Path dir, String why) {
    return new AgentException(ErrorCode.INVALID_REQUEST, dir.resolve("hosts.toml") + ": " + why);
  }
}
