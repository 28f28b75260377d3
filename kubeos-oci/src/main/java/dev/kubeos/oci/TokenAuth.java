package dev.kubeos.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.http.HttpTransport;
import dev.kubeos.oci.model.AuthChallenge;
import dev.kubeos.oci.model.DockerConfig;
import dev.kubeos.oci.model.RegistryCredentials;
import dev.kubeos.oci.model.RegistryEndpoint;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Registry auth: anonymous, Basic, or Bearer tokens from the challenge's realm, cached per endpoint
 * and scope. A mirror is sent its own host's credentials, never the registry's. Credentials never
 * appear in messages.
 */
final class TokenAuth {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String registry;
  private final DockerConfig docker;
  private final Path dockerConfigFile;
  private final Function<RegistryEndpoint, HttpTransport> transports;
  private final Map<String, String> authorization = new ConcurrentHashMap<>();

  TokenAuth(
      String registry,
      DockerConfig docker,
      Path dockerConfigFile,
      Function<RegistryEndpoint, HttpTransport> transports) {
    this.registry = registry;
    this.docker = docker;
    this.dockerConfigFile = dockerConfigFile;
    this.transports = transports;
  }

  /** The cached Authorization header for {@code scope} on {@code ep}, or null. */
  String cached(RegistryEndpoint ep, String scope) {
    return authorization.get(ep.host() + " " + scope);
  }

  /**
   * Answers a 401: remembers the Authorization header for the scope.
   *
   * @param challengeHeader the answer's WWW-Authenticate, or null
   * @param retried whether the request was already sent with an answer to a challenge
   */
  void answer(RegistryEndpoint ep, String scope, String challengeHeader, boolean retried)
      throws IOException {
    AuthChallenge challenge = AuthChallenge.parse(challengeHeader).orElse(null);
    if (retried || challenge == null) {
      throw unauthorized(ep, scope);
    }
    authorization.put(ep.host() + " " + scope, authorize(ep, challenge, scope));
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
    HttpURLConnection c =
        transports
            .apply(ep)
            .open(
                tokenUri,
                "GET",
                credentials.present() ? Map.of("Authorization", basic(credentials)) : Map.of());
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
      JsonNode json =
          JSON.readTree(RegistrySession.readLimited(c.getInputStream(), 1 << 20, "token"));
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
                    + dockerConfigFile
                    + "; add an auths entry (auth = base64 of user:password) for it");
    return new AgentException(ErrorCode.DOWNLOAD_FAILED, msg);
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
