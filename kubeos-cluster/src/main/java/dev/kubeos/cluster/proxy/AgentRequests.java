package dev.kubeos.cluster.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
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

  /**
   * Every member upstream's agent requires is present, as upstream's proxy sends it: a string the
   * CR leaves out is {@code ""} (upstream's agent refuses a missing or null string member), and
   * {@code certs} is always an object.
   */
  static UpgradeRequest upgrade(OSSpec os) {
    UpgradeRequest.Certs certs =
        new UpgradeRequest.Certs(
            text(os.getCacert()), text(os.getClientcert()), text(os.getClientkey()));
    return new UpgradeRequest(
        text(os.getOsversion()),
        text(os.getChecksum()),
        text(os.getImagetype()),
        text(os.getContainerimage()),
        text(os.getImageurl()),
        os.isFlagSafe(),
        os.isMtls(),
        certs);
  }

  private static String text(String s) {
    return s == null ? "" : s;
  }

  /** True when there is at least one setting to apply. */
  static boolean hasConfigs(SysConfigs s) {
    return s != null && s.getConfigs() != null && !s.getConfigs().isEmpty();
  }

  /**
   * CR {@code contents[]} (list of key/value/operation) become the agent's key-to-value map, with
   * every member upstream's agent requires: {@code model}, {@code config_path} and {@code
   * operation} are {@code ""} when the CR leaves them out, a missing value is JSON {@code null}. A
   * model without {@code contents} is left out, as upstream's proxy does.
   */
  static ConfigureRequest configure(SysConfigs s) {
    List<ConfigureRequest.Sysconfig> configs = new ArrayList<>();
    for (SysConfig c : s.getConfigs()) {
      if (c.getContents() == null) {
        continue;
      }
      Map<String, ConfigureRequest.KeyInfo> contents = new LinkedHashMap<>();
      for (Content k : c.getContents()) {
        JsonNode value =
            k.getValue() == null ? NullNode.getInstance() : MAPPER.valueToTree(k.getValue());
        contents.put(text(k.getKey()), new ConfigureRequest.KeyInfo(value, text(k.getOperation())));
      }
      configs.add(
          new ConfigureRequest.Sysconfig(text(c.getModel()), text(c.getConfigpath()), contents));
    }
    return new ConfigureRequest(s.getVersion(), configs);
  }
}
