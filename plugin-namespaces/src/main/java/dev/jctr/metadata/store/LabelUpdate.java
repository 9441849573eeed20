package dev.jctr.metadata.store;

import java.util.HashMap;
import java.util.Map;

/**
 * containerd's label update rules for a field mask: path {@code labels} replaces every label,
 * {@code labels.<key>} sets that one label (or removes it when the update has no such label).
 */
final class LabelUpdate {

  private LabelUpdate() {}

  /** Whether {@code path} addresses labels at all. */
  static boolean isLabelPath(String path) {
    return path.equals("labels") || path.startsWith("labels.");
  }

  /** Applies one label path of a mask to {@code current}, reading values from {@code update}. */
  static Map<String, String> apply(Map<String, String> current, Map<String, String> update,
      String path) {
    if (path.equals("labels")) {
      return new HashMap<>(update);
    }
    String key = path.substring("labels.".length());
    Map<String, String> result = new HashMap<>(current);
    String value = update.get(key);
    if (value == null || value.isEmpty()) {
      result.remove(key);
    } else {
      result.put(key, value);
    }
    return result;
  }
}
