package dev.kubeos.oci.model;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code WWW-Authenticate} challenge of a registry: {@code Basic realm="..."} or {@code Bearer
 * realm="https://auth/token",service="registry",scope="repository:x:pull"}.
 *
 * @param scheme {@code basic} or {@code bearer} (lower case)
 * @param params auth-params by lower-case name
 */
public record AuthChallenge(String scheme, Map<String, String> params) {

  /** Parses the header value; empty when it is missing or not Basic/Bearer. */
  public static Optional<AuthChallenge> parse(String header) {
    if (header == null) {
      return Optional.empty();
    }
    String h = header.trim();
    int sp = h.indexOf(' ');
    String scheme = (sp < 0 ? h : h.substring(0, sp)).toLowerCase(Locale.ROOT);
    if (!scheme.equals("basic") && !scheme.equals("bearer")) {
      return Optional.empty();
    }
    Map<String, String> params = new LinkedHashMap<>();
    int i = sp < 0 ? h.length() : sp + 1;
    while (i < h.length()) {
      while (i < h.length() && (h.charAt(i) == ' ' || h.charAt(i) == ',')) {
        i++;
      }
      int eq = h.indexOf('=', i);
      if (eq < 0) {
        break;
      }
      String name = h.substring(i, eq).trim().toLowerCase(Locale.ROOT);
      i = eq + 1;
      StringBuilder value = new StringBuilder();
      if (i < h.length() && h.charAt(i) == '"') {
        i++;
        while (i < h.length() && h.charAt(i) != '"') {
          if (h.charAt(i) == '\\' && i + 1 < h.length()) {
            i++;
          }
          value.append(h.charAt(i++));
        }
        i++; // closing quote
      } else {
        while (i < h.length() && h.charAt(i) != ',') {
          value.append(h.charAt(i++));
        }
      }
      params.put(name, value.toString().trim());
    }
    return Optional.of(new AuthChallenge(scheme, Map.copyOf(params)));
  }

  public boolean bearer() {
    return scheme.equals("bearer");
  }

  public String param(String name) {
    return params.get(name);
  }
}
