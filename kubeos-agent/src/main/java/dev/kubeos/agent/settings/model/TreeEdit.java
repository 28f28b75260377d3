package dev.kubeos.agent.settings.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The meaning of a change to a YAML/TOML document, on its parsed tree. The line editors must
 * produce text that parses to exactly this tree; the engine checks that, so a line edit can never
 * silently change something else.
 */
public final class TreeEdit {
  private TreeEdit() {}

  /** One leaf change: UPDATE of a non-empty map is split into one leaf per field. */
  public record Leaf(List<String> path, JsonNode value, Operation operation) {}

  public static List<Leaf> leaves(List<String> path, JsonNode value, Operation op) {
    List<Leaf> out = new ArrayList<>();
    flatten(path, value, op, out);
    return out;
  }

  private static void flatten(List<String> path, JsonNode value, Operation op, List<Leaf> out) {
    if (op == Operation.UPDATE && value != null && value.isObject() && value.size() > 0) {
      for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        List<String> child = new ArrayList<>(path);
        child.add(f.getKey());
        flatten(List.copyOf(child), f.getValue(), op, out);
      }
    } else {
      out.add(new Leaf(path, value, op));
    }
  }

  /** Applies one leaf to a copy of {@code root} (an object, or null for an absent document). */
  public static ObjectNode apply(String model, JsonNode root, Leaf leaf) {
    ObjectNode doc =
        root != null && root.isObject()
            ? ((ObjectNode) root).deepCopy()
            : JsonNodeFactory.instance.objectNode();
    ObjectNode parent = doc;
    List<String> path = leaf.path();
    for (int i = 0; i < path.size() - 1; i++) {
      JsonNode next = parent.get(path.get(i));
      if (next == null || next.isNull()) {
        if (leaf.operation() == Operation.DELETE) {
          return doc;
        }
        next = parent.putObject(path.get(i));
      } else if (!next.isObject()) {
        throw Invalid.of(
            model,
            KeyPath.render(path),
            KeyPath.render(path.subList(0, i + 1)) + " holds a " + kind(next) + ", not a map");
      }
      parent = (ObjectNode) next;
    }
    String name = path.get(path.size() - 1);
    JsonNode old = parent.get(name);
    switch (leaf.operation()) {
      case DELETE:
        parent.remove(name);
        break;
      case UPDATE:
        if (old != null && old.isArray() && leaf.value().isArray()) {
          ((ArrayNode) old).addAll((ArrayNode) leaf.value().deepCopy());
        } else if (!(old != null && old.isObject() && leaf.value().isObject())) {
          parent.set(name, leaf.value().deepCopy());
        }
        break;
      default:
        parent.set(name, leaf.value().deepCopy());
    }
    return doc;
  }

  /** Equality of parsed documents where 1, 1L and 1.0 are the same number. */
  public static boolean same(JsonNode a, JsonNode b) {
    if (a == null || b == null) {
      return a == b;
    }
    return a.equals(
        (x, y) -> {
          if (x.isNumber() && y.isNumber()) {
            return x.decimalValue().compareTo(y.decimalValue());
          }
          return x.equals(y) ? 0 : 1;
        },
        b);
  }

  static String kind(JsonNode n) {
    return n.isArray() ? "list" : n.isObject() ? "map" : "value (" + n.asText() + ")";
  }
}
