package dev.kubeos.oci.model;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import java.util.regex.Pattern;

/**
 * A container image reference {@code [registry/]repository[:tag][@sha256:digest]}, with Docker's
 * defaults: no registry means {@code docker.io}, a one-component repository there means {@code
 * library/<name>}, neither tag nor digest means {@code :latest}.
 *
 * @param registry registry host as written ({@code docker.io}, {@code 127.0.0.1:5000})
 * @param repository repository path ({@code library/busybox}, {@code kubeos/os})
 * @param tag tag, or null when only a digest was given
 * @param digest manifest digest, or null
 */
public record ImageReference(String registry, String repository, String tag, Sha256 digest) {
  public static final String DOCKER_HUB = "docker.io";
  private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final Pattern HOST =
      Pattern.compile("[A-Za-z0-9.-]+(?::[0-9]{1,5})?|\\[[0-9a-fA-F:]+](?::[0-9]{1,5})?");

  /**
   * Parses a reference.
   *
   * @throws AgentException INVALID_REQUEST saying which part is malformed
   */
  public static ImageReference parse(String text) {
    if (text == null || text.isBlank()) {
      throw invalid(text, "it is empty");
    }
    String s = text.trim();
    if (s.contains("://")) {
      throw invalid(text, "it has a URL scheme; write host[:port]/repository[:tag][@digest]");
    }
    Sha256 digest = null;
    int at = s.indexOf('@');
    if (at >= 0) {
      String d = s.substring(at + 1);
      if (!d.startsWith("sha256:")) {
        throw invalid(text, "the digest '" + d + "' is not sha256:<64 hex characters>");
      }
      try {
        digest = Sha256.parse(d);
      } catch (AgentException e) {
        throw invalid(text, "the digest '" + d + "' is not sha256:<64 hex characters>");
      }
      s = s.substring(0, at);
    }
    String tag = null;
    int colon = s.lastIndexOf(':');
    if (colon > s.lastIndexOf('/')) {
      tag = s.substring(colon + 1);
      s = s.substring(0, colon);
      if (!TAG.matcher(tag).matches()) {
        throw invalid(text, "the tag '" + tag + "' is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
      }
    }
    String registry = DOCKER_HUB;
    String repo = s;
    int slash = s.indexOf('/');
    if (slash > 0) {
      String first = s.substring(0, slash);
      if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
        if (!HOST.matcher(first).matches()) {
          throw invalid(text, "the registry '" + first + "' is not host[:port]");
        }
        registry = first;
        repo = s.substring(slash + 1);
      }
    }
    if (registry.equals("index.docker.io") || registry.equals("registry-1.docker.io")) {
      registry = DOCKER_HUB;
    }
    if (registry.equals(DOCKER_HUB) && !repo.contains("/")) {
      repo = "library/" + repo;
    }
    if (repo.isEmpty() || repo.length() > 255) {
      throw invalid(text, "the repository name is empty or longer than 255 characters");
    }
    for (String c : repo.split("/", -1)) {
      if (!COMPONENT.matcher(c).matches()) {
        throw invalid(
            text,
            "the repository component '"
                + c
                + "' must be lower-case letters and digits separated by '.', '_', '__' or '-'");
      }
    }
    if (tag == null && digest == null) {
      tag = "latest";
    }
    return new ImageReference(registry, repo, tag, digest);
  }

  /** The host the registry API is served from ({@code registry-1.docker.io} for Docker Hub). */
  public String apiHost() {
    return registry.equals(DOCKER_HUB) ? "registry-1.docker.io" : registry;
  }

  /** What goes after {@code /manifests/}: the digest when known, else the tag. */
  public String manifestReference() {
    return digest != null ? digest.toString() : tag;
  }

  @Override
  public String toString() {
    return registry
        + "/"
        + repository
        + (tag != null ? ":" + tag : "")
        + (digest != null ? "@" + digest : "");
  }

  private static AgentException invalid(String text, String why) {
    return new AgentException(
        ErrorCode.INVALID_REQUEST,
        "invalid image reference '"
            + text
            + "': "
            + why
            + " (expected [registry[:port]/]repository[:tag][@sha256:digest])");
  }
}
