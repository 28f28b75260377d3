package dev.kubeos.cluster.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.UpgradeRequest;
import dev.kubeos.crd.Content;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.SysConfig;
import dev.kubeos.crd.SysConfigs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Translates the custom resources' fields into the agent's wire requests (upstream's mapping). */
final class AgentRequests {
  private static final ObjectMapper MAPPER = Json.mapper();

  private AgentRequests() {}

  static UpgradeRequest upgrade(OSSpec os) {
    UpgradeRequest.Certs certs =
        os.getCacert() == null && os.getClientcert() == null && os.getClientkey() == null
            ? null
            : new UpgradeRequest.Certs(os.getCacert(), os.getClientcert(), os.getClientkey());
    return new UpgradeRequest(
        os.getOsversion(),
        os.getChecksum(),
        os.getImagetype(),
        os.getContainerimage(),
        os.getImageurl(),
        os.isFlagSafe(),
        os.isMtls(),
        certs);
  }

  /** True when there is at least one setting to apply. */
  static boolean hasConfigs(SysConfigs s) {
    return s != null && s.getConfigs() != null && !s.getConfigs().isEmpty();
  }

  /** CR {@code contents[]} (list of key/value/operation) become the agent's key-to-value map. */
  static ConfigureRequest configure(SysConfigs s) {
    List<ConfigureRequest.Sysconfig> configs = new ArrayList<>();
    for (SysConfig c : s.getConfigs()) {
      Map<String, ConfigureRequest.KeyInfo> contents = new LinkedHashMap<>();
      for (Content k : c.getContents()) {
        JsonNode value = MAPPER.valueToTree(k.getValue());
        contents.put(k.getKey(), new ConfigureRequest.KeyInfo(value, k.getOperation()));
      }
      configs.add(new ConfigureRequest.Sysconfig(c.getModel(), c.getConfigpath(), contents));
    }
    return new ConfigureRequest(s.getVersion(), configs);
  }
}
