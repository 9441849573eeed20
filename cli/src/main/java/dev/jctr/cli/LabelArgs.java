package dev.jctr.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** {@code key=value} arguments in, {@code k=v,k2=v2} (sorted, as ctr prints) out. */
final class LabelArgs {

  private LabelArgs() {}

  /**
   * Parses {@code key=value} pairs; {@code key=} means an empty value (a removal in updates).
   *
   * @throws UsageException for a pair without a key or without {@code =}
   */
  static Map<String, String> parse(Command command, List<String> pairs) {
    Map<String, String> labels = new LinkedHashMap<>();
    for (String pair : pairs) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new UsageException(command, "label \"" + pair + "\": expected key=value");
      }
      labels.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return labels;
  }

  static String format(Map<String, String> labels) {
    if (labels.isEmpty()) {
      return "";
    }
    return new TreeMap<>(labels).entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(","));
  }
}
