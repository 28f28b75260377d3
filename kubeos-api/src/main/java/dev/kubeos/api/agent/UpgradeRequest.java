package dev.kubeos.api.agent;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Parameter of {@code prepare_upgrade}, in upstream KubeOS's wire shape (snake_case). Fields
 * upstream does not have are optional additions.
 *
 * @param version OS version being staged
 * @param checkSum expected sha256 (hex) of the payload
 * @param imageType upstream: {@code disk} (rootfs tar over https/http), {@code docker}, {@code
 *     containerd}; ours: {@code raw} (root file-system image)
 * @param containerImage image reference for docker/containerd types
 * @param imageUrl payload URL for disk/raw types
 * @param flagSafe upstream's flag that allows plain http
 * @param mtls use the client certificate when fetching
 * @param certs certificate file names under /etc/KubeOS/certs
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UpgradeRequest(
    @JsonProperty("version") String version,
    @JsonProperty("check_sum") String checkSum,
    @JsonProperty("image_type") String imageType,
    @JsonProperty("container_image") String containerImage,
    @JsonProperty("image_url") String imageUrl,
    @JsonProperty("flag_safe") boolean flagSafe,
    @JsonProperty("mtls") boolean mtls,
    @JsonProperty("certs") Certs certs) {

  /** Certificate file names, relative to the node's certificate directory. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Certs(
      @JsonProperty("ca_cert") String caCert,
      @JsonProperty("client_cert") String clientCert,
      @JsonProperty("client_key") String clientKey) {}
}
