package dev.jctr.kernel.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tomlj.TomlArray;
import org.tomlj.TomlTable;

/**
 * Turns one {@code [plugins."<uri>"]} table into ConfigAdmin properties. Nested tables join
 * with {@code .} and snake_case keys become camelCase, so that a component property type method
 * {@code cni_binDir()} reads {@code [plugins."…".cni] bin_dir} (DS maps {@code _} to {@code .}).
 * A key with a {@code .} or {@code :} in it is a name (a registry host such as
 * {@code "docker.io"} or {@code "localhost:5000"}) and stays as written.
 * Arrays of scalars become arrays; integers are Long, floats Double, booleans Boolean, and
 * dates/times their ISO text.
 */
public final class PluginSection {

  private PluginSection() {}

  public static Map<String, Object> flatten(TomlTable table) {
    Map<String, Object> properties = new LinkedHashMap<>();
    flattenInto(table, "", properties);
    return properties;
  }

  /** {@code max_concurrent_downloads} becomes {@code maxConcurrentDownloads}. */
  public static String camelCase(String key) {
    StringBuilder out = new StringBuilder(key.length());
    boolean upper = false;
    for (char c : key.toCharArray()) {
      if (c == '_' || c == '-') {
        upper = out.length() > 0;
        continue;
      }
      out.append(upper ? Character.toUpperCase(c) : c);
      upper = false;
    }
    return out.toString();
  }

  /** Quoted keys naming hosts keep their spelling: camelCase would change "my-registry.io". */
  private static boolean isName(String key) {
    return key.indexOf('.') >= 0 || key.indexOf(':') >= 0;
  }

  private static void flattenInto(TomlTable table, String prefix, Map<String, Object> out) {
    for (String key : table.keySet()) {
      List<String> path = List.of(key);
      String name = prefix + (isName(key) ? key : camelCase(key));
      if (table.isTable(path)) {
        flattenInto(table.getTable(path), name + ".", out);
      } else if (table.isArray(path)) {
        out.put(name, array(table.getArray(path), name));
      } else {
        out.put(name, scalar(table.get(path)));
      }
    }
  }

  private static Object array(TomlArray array, String name) {
    List<Object> values = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      Object value = array.get(i);
      if (value instanceof TomlTable || value instanceof TomlArray) {
        throw new ConfigException("plugin property " + name
            + ": arrays of tables or arrays are not supported");
      }
      values.add(scalar(value));
    }
    if (values.stream().allMatch(String.class::isInstance)) {
      return values.toArray(String[]::new);
    }
    if (values.stream().allMatch(Long.class::isInstance)) {
      return values.toArray(Long[]::new);
    }
    if (values.stream().allMatch(Boolean.class::isInstance)) {
      return values.toArray(Boolean[]::new);
    }
    return values.stream().map(String::valueOf).toArray(String[]::new);
  }

  private static Object scalar(Object value) {
    return switch (value) {
      case String s -> s;
      case Long l -> l;
      case Double d -> d;
      case Boolean b -> b;
      default -> String.valueOf(value);
    };
  }
}
