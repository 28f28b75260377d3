package dev.kubeos.api.agent;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * Parameter of {@code configure}, in upstream KubeOS's wire shape: unlike the CR, {@code contents}
 * is a map from key to value and operation. {@code version} is our optional addition (upstream's
 * proxy does not send it): the settings version that {@code --revert} names; without it the agent
 * derives {@code sha-<12 hex digits>} from the content.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConfigureRequest(
    @JsonProperty("version") String version, @JsonProperty("configs") List<Sysconfig> configs) {

  /** Upstream's shape, without a version. */
  public ConfigureRequest(List<Sysconfig> configs) {
    this(null, configs);
  }

  /** Settings of one model (kernel.sysctl, kubernetes.kubelet, ...). */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Sysconfig(
      @JsonProperty("model") String model,
      @JsonProperty("config_path") String configPath,
      @JsonProperty("contents") Map<String, KeyInfo> contents) {}

  /**
   * The value for one key and the operation ({@code ""} = add/update, {@code delete}). {@code
   * value} is always written, as JSON {@code null} when absent: upstream's agent requires the
   * member.
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record KeyInfo(
      @JsonProperty("value") @JsonInclude(JsonInclude.Include.ALWAYS) JsonNode value,
      @JsonProperty("operation") String operation) {}
}
