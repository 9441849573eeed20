package dev.jctr.metadata.pull;

import dev.jctr.api.errors.InvalidArgumentException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The part of TOML that containerd's {@code hosts.toml} uses: {@code key = value} with strings
 * (basic and literal), booleans, integers and arrays of strings; tables {@code [host."url"]}
 * and {@code [host."url".header]}; comments. Values come back keyed by their full dotted path
 * ({@code server}, {@code host\0https://m:5000\0ca}), tables in file order.
 */
final class HostsFile {

  /** The values, and the host URLs in the order the file names them. */
  record Parsed(Map<String, Object> values, List<String> hosts) {}

  private HostsFile() {}

  static Parsed parse(String text, String file) {
    Map<String, Object> values = new LinkedHashMap<>();
    List<String> hosts = new ArrayList<>();
    List<String> table = List.of();
    int number = 0;
    for (String raw : text.split("\n", -1)) {
      number++;
      String line = stripComment(raw).strip();
      if (line.isEmpty()) {
        continue;
      }
      String where = file + ":" + number;
      if (line.startsWith("[")) {
        if (!line.endsWith("]") || line.startsWith("[[")) {
          throw new InvalidArgumentException(where + ": unsupported table header " + line);
        }
        table = keyPath(line.substring(1, line.length() - 1).strip(), where);
        if (table.size() >= 2 && table.get(0).equals("host") && !hosts.contains(table.get(1))) {
          hosts.add(table.get(1));
        }
        continue;
      }
      int equals = findEquals(line);
      if (equals < 0) {
        throw new InvalidArgumentException(where + ": expected key = value, got " + line);
      }
      List<String> key = new ArrayList<>(table);
      key.addAll(keyPath(line.substring(0, equals).strip(), where));
      values.put(String.join("\0", key), value(line.substring(equals + 1).strip(), where));
    }
    return new Parsed(values, hosts);
  }

  private static String stripComment(String line) {
    boolean quoted = false;
    char quote = 0;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '\\' && quote == '"') {
          i++;
        } else if (c == quote) {
          quoted = false;
        }
      } else if (c == '"' || c == '\'') {
        quoted = true;
        quote = c;
      } else if (c == '#') {
        return line.substring(0, i);
      }
    }
    return line;
  }

  private static int findEquals(String line) {
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"') {
        quoted = !quoted;
      } else if (c == '=' && !quoted) {
        return i;
      }
    }
    return -1;
  }

  /** {@code host."https://m:5000".header} as its parts. */
  private static List<String> keyPath(String key, String where) {
    List<String> parts = new ArrayList<>();
    int i = 0;
    while (i < key.length()) {
      char c = key.charAt(i);
      if (c == '"' || c == '\'') {
        int end = key.indexOf(c, i + 1);
        if (end < 0) {
          throw new InvalidArgumentException(where + ": unterminated quoted key " + key);
        }
        parts.add(key.substring(i + 1, end));
        i = end + 1;
      } else {
        int end = key.indexOf('.', i);
        end = end < 0 ? key.length() : end;
        parts.add(key.substring(i, end).strip());
        i = end;
      }
      while (i < key.length() && (key.charAt(i) == '.' || key.charAt(i) == ' ')) {
        i++;
      }
    }
    return parts;
  }

  private static Object value(String text, String where) {
    if (text.startsWith("\"") || text.startsWith("'")) {
      return string(text, where);
    }
    if (text.equals("true") || text.equals("false")) {
      return Boolean.parseBoolean(text);
    }
    if (text.startsWith("[")) {
      if (!text.endsWith("]")) {
        throw new InvalidArgumentException(where + ": arrays must be on one line: " + text);
      }
      List<String> items = new ArrayList<>();
      String inner = text.substring(1, text.length() - 1).strip();
      for (String item : splitItems(inner)) {
        if (!item.isBlank()) {
          items.add(string(item.strip(), where));
        }
      }
      return items;
    }
    if (text.matches("-?\\d+")) {
      return Long.parseLong(text);
    }
    throw new InvalidArgumentException(where + ": unsupported value " + text);
  }

  private static List<String> splitItems(String inner) {
    List<String> items = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    boolean quoted = false;
    for (char c : inner.toCharArray()) {
      if (c == '"') {
        quoted = !quoted;
      }
      if (c == ',' && !quoted) {
        items.add(current.toString());
        current.setLength(0);
      } else {
        current.append(c);
      }
    }
    items.add(current.toString());
    return items;
  }

  private static String string(String text, String where) {
    char quote = text.charAt(0);
    if (text.length() < 2 || text.charAt(text.length() - 1) != quote) {
      throw new InvalidArgumentException(where + ": unterminated string " + text);
    }
    String body = text.substring(1, text.length() - 1);
    if (quote == '\'') {
      return body;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '\\' && i + 1 < body.length()) {
        char next = body.charAt(++i);
        out.append(switch (next) {
          case 'n' -> '\n';
          case 't' -> '\t';
          case '"' -> '"';
          case '\\' -> '\\';
          default -> throw new InvalidArgumentException(where + ": unsupported escape \\"
              + next);
        });
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
