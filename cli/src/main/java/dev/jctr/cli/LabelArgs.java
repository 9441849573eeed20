package dev.jctr.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Model.CommandSpec;

/** {@code key=value} arguments in, {@code k=v,k2=v2} (sorted, as ctr prints) out. */
final class LabelArgs {

  private LabelArgs() {}

  /** Parses {@code key=value} pairs; {@code key=} means an empty value (a removal in updates). */
  static Map<String, String> parse(CommandSpec spec, List<String> pairs) {
    Map<String, String> labels = new LinkedHashMap<>();
    for (String pair : pairs) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new ParameterException(spec.commandLine(),
            "label \"" + pair + "\": expected key=value");
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
