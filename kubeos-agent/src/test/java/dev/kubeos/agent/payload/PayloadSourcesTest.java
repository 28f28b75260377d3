package dev.kubeos.agent.payload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.http.HttpPayloadSource;
import dev.kubeos.oci.source.FetchOptions;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PayloadSourcesTest {

  @ParameterizedTest
  @ValueSource(strings = {"ftp://host/x.img", "s3://bucket/x", "relative/path.img"})
  void refusesOtherSchemes(String uri) {
    assertThatThrownBy(() -> PayloadSources.open(URI.create(uri), FetchOptions.defaults()))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
  }

  @Test
  void refusesHttpUnlessInsecure() {
    URI uri = URI.create("http://127.0.0.1:1/x.img");
    assertThatThrownBy(() -> PayloadSources.open(uri, FetchOptions.defaults()))
        .hasMessageContaining("http:// payloads are refused unless flagSafe/--insecure is set");
    assertThat(PayloadSources.open(uri, FetchOptions.defaults().withInsecure(true)))
        .isInstanceOf(HttpPayloadSource.class);
  }

  @Test
  void describeHidesCredentials() {
    URI uri = URI.create("https://user:secret@example.invalid:8443/os/v2.img?token=abc");
    String d = PayloadSources.open(uri, FetchOptions.defaults()).describe();
    assertThat(d).isEqualTo("https://example.invalid:8443/os/v2.img?...").doesNotContain("secret");
  }

  @Test
  void clientCertAndKeyComeTogether() {
    assertThatThrownBy(
            () -> new FetchOptions(false, null, java.nio.file.Path.of("c.pem"), null, null, null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
