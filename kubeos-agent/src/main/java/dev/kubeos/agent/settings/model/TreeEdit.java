package dev.kubeos.agent.settings.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The meaning of a change to a YAML/TOML document, on its parsed tree. The line editors must
 * produce text that parses to exactly this tree; the engine checks that, so a line edit can never
 * silently change something else.
 */
public final class TreeEdit {
  private TreeEdit() {}

  /** One change at a path. */
  public record Leaf(List<String> path, JsonNode value, ChangeOperation operation) {}

  /** The change as leaves (one: a map value replaces the map, as upstream does). */
  public static List<Leaf> leaves(List<String> path, JsonNode value, ChangeOperation op) {
    return List.of(new Leaf(path, value, op));
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
        if (leaf.operation() == ChangeOperation.DELETE) {
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
        } else {
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
