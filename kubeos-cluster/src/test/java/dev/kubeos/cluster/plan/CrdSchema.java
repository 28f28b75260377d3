package dev.kubeos.cluster.plan;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The structural part of a CRD's {@code openAPIV3Schema} as the API server applies it to a custom
 * resource: {@code type}, {@code enum}, {@code pattern}, {@code minimum}, {@code required}, {@code
 * properties}, {@code items} and {@code x-kubernetes-preserve-unknown-fields}. A member the schema
 * does not know is reported (the API server would prune it: the resource would silently lose it).
 * The CEL rules ({@code x-kubernetes-validations}) are not evaluated here.
 */
final class CrdSchema {
  private static final KubernetesSerialization YAML = new KubernetesSerialization();
  private final Map<String, Object> root;

  private CrdSchema(Map<String, Object> root) {
    this.root = root;
  }

  /** The schema of the first version of the CRD in {@code file}. */
  @SuppressWarnings("unchecked")
  static CrdSchema read(Path file) throws IOException {
    Map<String, Object> crd;
    try (InputStream in = Files.newInputStream(file)) {
      crd = YAML.unmarshal(in, Map.class);
    }
    Map<String, Object> spec = (Map<String, Object>) crd.get("spec");
    Map<String, Object> version = ((List<Map<String, Object>>) spec.get("versions")).get(0);
    return new CrdSchema(
        (Map<String, Object>) ((Map<String, Object>) version.get("schema")).get("openAPIV3Schema"));
  }

  /** The problems of {@code resource} (a parsed YAML/JSON object); empty when it is valid. */
  List<String> validate(Map<String, Object> resource) {
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Object> e : resource.entrySet()) {
      if (List.of("apiVersion", "kind", "metadata").contains(e.getKey())) {
        continue; // the API server's own members
      }
      check("." + e.getKey(), e.getValue(), property(root, e.getKey()), problems);
    }
    return problems;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> property(Map<String, Object> schema, String name) {
    Map<String, Object> props = (Map<String, Object>) schema.get("properties");
    return props == null ? null : (Map<String, Object>) props.get(name);
  }

  @SuppressWarnings("unchecked")
  private static void check(String at, Object value, Map<String, Object> s, List<String> out) {
    if (s == null) {
      out.add(at + ": not in the schema (the API server would drop it)");
      return;
    }
    if (value == null) {
      if (!Boolean.TRUE.equals(s.get("nullable"))
          && !Boolean.TRUE.equals(s.get("x-kubernetes-preserve-unknown-fields"))) {
        out.add(at + ": null");
      }
      return;
    }
    Object type = s.get("type");
    if (type != null && !typeMatches(String.valueOf(type), value)) {
      out.add(at + ": " + describe(value) + " where the schema wants " + type);
      return;
    }
    List<Object> allowed = (List<Object>) s.get("enum");
    if (allowed != null && !allowed.contains(value)) {
      out.add(at + ": '" + value + "' is none of " + allowed);
    }
    if (s.get("pattern") instanceof String p && value instanceof String v) {
      if (!Pattern.compile(p).matcher(v).find()) {
        out.add(at + ": '" + v + "' does not match " + p);
      }
    }
    if (s.get("minimum") instanceof Number min && value instanceof Number n) {
      if (new BigDecimal(n.toString()).compareTo(new BigDecimal(min.toString())) < 0) {
        out.add(at + ": " + n + " is below the minimum " + min);
      }
    }
    if (value instanceof Map<?, ?> map) {
      for (Object r : (List<Object>) s.getOrDefault("required", List.of())) {
        if (!map.containsKey(r)) {
          out.add(at + ": required member " + r + " is missing");
        }
      }
      boolean free = Boolean.TRUE.equals(s.get("x-kubernetes-preserve-unknown-fields"));
      for (Map.Entry<?, ?> e : map.entrySet()) {
        Map<String, Object> child = property(s, String.valueOf(e.getKey()));
        if (child == null && free) {
          continue;
        }
        check(at + "." + e.getKey(), e.getValue(), child, out);
      }
    }
    if (value instanceof List<?> list && s.get("items") instanceof Map<?, ?> items) {
      for (int i = 0; i < list.size(); i++) {
        check(at + "[" + i + "]", list.get(i), (Map<String, Object>) items, out);
      }
    }
  }

  private static boolean typeMatches(String type, Object value) {
    return switch (type) {
      case "object" -> value instanceof Map;
      case "array" -> value instanceof List;
      case "string" -> value instanceof String;
      case "boolean" -> value instanceof Boolean;
      case "integer" ->
          value instanceof Integer
              || value instanceof Long
              || value instanceof java.math.BigInteger;
      case "number" -> value instanceof Number;
      default -> false;
    };
  }

  private static String describe(Object value) {
    return value.getClass().getSimpleName() + " '" + value + "'";
  }
}
