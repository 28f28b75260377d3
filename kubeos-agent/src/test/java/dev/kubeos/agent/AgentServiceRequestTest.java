package dev.kubeos.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.UpgradeRequest;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Upstream's prepare_upgrade requests, as its proxy sends them, mapped onto stage requests. */
class AgentServiceRequestTest {
  final AgentService service =
      new AgentService(null, reason -> {}, Path.of("/etc/KubeOS/certs"), Duration.ZERO);
  final UpgradeRequest.Certs none = new UpgradeRequest.Certs("", "", "");

  @Test
  void upstreamsContainerImageExampleWithMtlsAndNoClientCertsIsAccepted() {
    StageRequest s =
        service.toStageRequest(
            new UpgradeRequest(
                "KubeOS 1.0.0",
                "sha256:" + "3a".repeat(32),
                "containerd",
                "registry.example.test/kubeos:1.0.0",
                "",
                false,
                true,
                none));
    assertThat(s.image()).isEqualTo("registry.example.test/kubeos:1.0.0");
    assertThat(s.fetch().clientCert()).isNull();
    assertThat(s.fetch().caCert()).isNull();
  }

  @Test
  void anImageUrlWithMtlsStillNeedsItsClientCerts() {
    assertThatThrownBy(
            () ->
                service.toStageRequest(
                    new UpgradeRequest(
                        "KubeOS 1.0.0",
                        "3a".repeat(32),
                        "disk",
                        "",
                        "https://images.example.test/update.img",
                        false,
                        true,
                        new UpgradeRequest.Certs("ca.crt", "", ""))))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
        .hasMessageContaining("mtls is set");
  }
}
