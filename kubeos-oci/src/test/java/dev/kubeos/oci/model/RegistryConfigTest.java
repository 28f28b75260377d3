package dev.kubeos.oci.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** docker config.json, containerd hosts.toml, WWW-Authenticate and manifests, parsed from text. */
class RegistryConfigTest {
  static final ImageReference REF = ImageReference.parse("reg.example:5000/kubeos/os:v2");

  @Test
  void dockerConfigReadsAuthAndUsernamePasswordAndNamesHelpers() {
    String auth = Base64.getEncoder().encodeToString("u1:p:w".getBytes(StandardCharsets.UTF_8));
    DockerConfig c =
        DockerConfig.parse(
            "{\"auths\":{\"reg.example:5000\":{\"auth\":\""
                + auth
                + "\"},\"https://other:443\":{\"username\":\"u2\",\"password\":\"p2\"},"
                + "\"https://index.docker.io/v1/\":{\"auth\":\""
                + auth
                + "\"}},\"credHelpers\":{\"ecr.example\":\"ecr-login\"}}",
            "config.json");
    RegistryCredentials one = c.credentialsFor("reg.example:5000");
    assertThat(one.username()).isEqualTo("u1");
    assertThat(one.password()).isEqualTo("p:w");
    assertThat(one.toString()).doesNotContain("p:w").contains("u1");
    assertThat(c.credentialsFor("other:443").username()).isEqualTo("u2");
    assertThat(c.credentialsFor("docker.io").username()).isEqualTo("u1");
    assertThat(c.credentialsFor("ecr.example").helper()).isEqualTo("ecr-login");
    assertThat(c.credentialsFor("unknown:1").present()).isFalse();
    assertThat(c.credentialsFor("unknown:1").helper()).isNull();
    assertThat(DockerConfig.parse("{\"credsStore\":\"desktop\"}", "f").credentialsFor("x").helper())
        .isEqualTo("desktop");
  }

  @Test
  void dockerConfigRefusesBrokenAuth() {
    assertThatThrownBy(
            () ->
                DockerConfig.parse("{\"auths\":{\"r\":{\"auth\":\"bm9jb2xvbg==\"}}}", "f")
                    .credentialsFor("r"))
        .hasMessageContaining("user:password")
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.INVALID_REQUEST);
    assertThatThrownBy(() -> DockerConfig.parse("[1]", "f")).isInstanceOf(AgentException.class);
  }

  @Test
  void hostsTomlMirrorsComeFirstInFileOrderThenTheServer() {
    Path dir = Path.of("/etc/containerd/certs.d/reg.example:5000");
    List<RegistryEndpoint> eps =
        HostsConfig.parse(
            "server = \"https://reg.example:5000\"\n"
                + "ca = \"/etc/ca.pem\"\n"
                + "[host.\"https://mirror-b.example\"]\n"
                + "  capabilities = [\"pull\"]\n"
                + "  ca = [\"mirror-ca.pem\"]\n"
                + "  client = [[\"c.pem\", \"k.pem\"]]\n"
                + "[host.\"http://127.0.0.1:5001/v2/proxy\"]\n"
                + "  capabilities = [\"pull\", \"resolve\"]\n"
                + "  override_path = true\n"
                + "  skip_verify = true\n",
            dir,
            REF,
            false);
    assertThat(eps).hasSize(3);
    assertThat(eps.get(0).api()).isEqualTo(URI.create("https://mirror-b.example/v2"));
    assertThat(eps.get(0).capabilities()).isEqualTo(Set.of("pull"));
    assertThat(eps.get(0).caCerts()).containsExactly(dir.resolve("mirror-ca.pem"));
    assertThat(eps.get(0).clientCert()).isEqualTo(dir.resolve("c.pem"));
    assertThat(eps.get(0).clientKey()).isEqualTo(dir.resolve("k.pem"));
    assertThat(eps.get(0).mirror()).isTrue();
    assertThat(eps.get(1).api()).isEqualTo(URI.create("http://127.0.0.1:5001/v2/proxy"));
    assertThat(eps.get(1).skipVerify()).isTrue();
    assertThat(eps.get(2).api()).isEqualTo(URI.create("https://reg.example:5000/v2"));
    assertThat(eps.get(2).mirror()).isFalse();
    assertThat(eps.get(2).caCerts()).containsExactly(Path.of("/etc/ca.pem"));
    assertThat(eps.get(2).capabilities()).containsExactlyInAnyOrder("pull", "resolve", "push");
  }

  @Test
  void withoutHostsTomlTheRegistryIsHttpsUnlessInsecure() {
    assertThat(HostsConfig.defaults(REF, false).get(0).api())
        .isEqualTo(URI.create("https://reg.example:5000/v2"));
    assertThat(HostsConfig.defaults(REF, true).get(0).api())
        .isEqualTo(URI.create("http://reg.example:5000/v2"));
    assertThat(HostsConfig.defaults(ImageReference.parse("busybox"), false).get(0).api())
        .isEqualTo(URI.create("https://registry-1.docker.io/v2"));
  }

  @Test
  void hostsTomlRefusesUnknownCapabilitiesAndNonHttpUrls() {
    Path dir = Path.of("/d");
    assertThatThrownBy(
            () ->
                HostsConfig.parse(
                    "[host.\"https://m\"]\ncapabilities = [\"delete\"]\n", dir, REF, false))
        .hasMessageContaining("unknown capability 'delete'");
    assertThatThrownBy(() -> HostsConfig.parse("server = \"ftp://x\"\n", dir, REF, false))
        .hasMessageContaining("not an http:// or https:// URL");
    assertThatThrownBy(() -> HostsConfig.parse("server = [\n", dir, REF, false))
        .hasMessageContaining("not valid TOML");
  }

  @Test
  void parsesBearerAndBasicChallenges() {
    AuthChallenge b =
        AuthChallenge.parse(
                "Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
                    + "scope=\"repository:kubeos/os:pull,push\"")
            .orElseThrow();
    assertThat(b.bearer()).isTrue();
    assertThat(b.param("realm")).isEqualTo("https://auth.example/token");
    assertThat(b.param("service")).isEqualTo("registry.example");
    assertThat(b.param("scope")).isEqualTo("repository:kubeos/os:pull,push");
    AuthChallenge basic = AuthChallenge.parse("Basic realm=\"kubeos\"").orElseThrow();
    assertThat(basic.bearer()).isFalse();
    assertThat(basic.param("realm")).isEqualTo("kubeos");
    assertThat(AuthChallenge.parse("Negotiate abc")).isEmpty();
    assertThat(AuthChallenge.parse(null)).isEmpty();
  }

  @Test
  void manifestsAndIndexesAreParsedAndThePlatformPicked() {
    String hex = "ab".repeat(32);
    String manifest =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MediaTypes.DOCKER_MANIFEST
            + "\",\"config\":{\"mediaType\":\"c\",\"digest\":\"sha256:"
            + hex
            + "\",\"size\":3},\"layers\":[{\"mediaType\":\""
            + MediaTypes.DOCKER_LAYER_GZIP
            + "\",\"digest\":\"sha256:"
            + hex
            + "\",\"size\":42}]}";
    byte[] bytes = manifest.getBytes(StandardCharsets.UTF_8);
    ManifestDocument m = ManifestDocument.parse(bytes, null, "m");
    assertThat(m.isIndex()).isFalse();
    assertThat(m.layers()).singleElement().extracting(Descriptor::size).isEqualTo(42L);
    assertThat(m.digest()).isEqualTo(ManifestDocument.sha256(bytes));

    String index =
        "{\"schemaVersion\":2,\"manifests\":["
            + "{\"mediaType\":\"x\",\"digest\":\"sha256:"
            + "01".repeat(32)
            + "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
            + "{\"mediaType\":\"x\",\"digest\":\"sha256:"
            + "02".repeat(32)
            + "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
    ManifestDocument i =
        ManifestDocument.parse(
            index.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_INDEX + "; charset=utf-8", "i");
    assertThat(i.isIndex()).isTrue();
    assertThat(i.platform("linux/amd64").orElseThrow().digest().hex()).isEqualTo("02".repeat(32));
    assertThat(i.platform("linux/arm64").orElseThrow().digest().hex()).isEqualTo("01".repeat(32));
    assertThat(i.platform("linux/s390x")).isEmpty();
  }

  @Test
  void refusesWhatIsNotAManifest() {
    assertThatThrownBy(() -> ManifestDocument.parse("nope".getBytes(), null, "m"))
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.PAYLOAD_INVALID);
    assertThatThrownBy(
            () ->
                ManifestDocument.parse(
                    "{\"schemaVersion\":1,\"fsLayers\":[]}".getBytes(),
                    "application/vnd.docker.distribution.manifest.v1+prettyjws",
                    "m"))
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.UNSUPPORTED);
  }
}
