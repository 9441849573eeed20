package dev.jctr.kernel.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlTable;

/** Reads config.toml. The embedded default file is the base every file is read over. */
public final class ConfigFile {

  private static final String DEFAULT_RESOURCE = "default-config.toml";
  private static final Set<String> KNOWN_TOP_LEVEL = Set.of(
      "version", "root", "state", "temp", "disabled_plugins", "required_plugins", "oom_score",
      "imports", "grpc", "ttrpc", "debug", "metrics", "cgroup", "timeouts", "plugins",
      "proxy_plugins", "stream_processors");
  private static final Set<String> LOG_LEVELS = Set.of("trace", "debug", "info", "warn", "error");

  private ConfigFile() {}

  /** The text {@code jctrd config default} prints. */
  public static String defaultText() {
    try (InputStream in = ConfigFile.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("embedded " + DEFAULT_RESOURCE + " is missing");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static DaemonConfig defaults() {
    return parse(defaultText(), "embedded defaults", new ArrayList<>());
  }

  /**
   * Reads a config file over the defaults.
   *
   * @param warnings receives one line per key that is accepted but ignored
   * @throws ConfigException naming the file, line and problem
   */
  public static DaemonConfig read(Path file, List<String> warnings) {
    try {
      return parse(Files.readString(file), file.toString(), warnings);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage());
    }
  }

  static DaemonConfig parse(String text, String source, List<String> warnings) {
    TomlParseResult toml = Toml.parse(text);
    if (toml.hasErrors()) {
      var error = toml.errors().get(0);
      throw new ConfigException(source + ": line " + error.position().line() + ", column "
          + error.position().column() + ": " + error.getMessage());
    }
    for (String key : toml.keySet()) {
      if (!KNOWN_TOP_LEVEL.contains(key)) {
        warnings.add(source + ": unknown key \"" + key + "\" ignored");
      }
    }
    int version = (int) longValue(toml, "version", 3, source);
    if (version < 2 || version > 3) {
      throw new ConfigException(source + ": config version " + version
          + " is not supported; use version = 2 or 3 (plugin sections keyed by full URI)");
    }
    Path grpcAddress = path(toml, "grpc.address", "/run/jctr/jctrd.sock", source);
    String ttrpc = string(toml, "ttrpc.address", "", source);
    String level = string(toml, "debug.level", "info", source).toLowerCase();
    if (!LOG_LEVELS.contains(level)) {
      throw new ConfigException(source + ": debug.level \"" + level + "\" must be one of "
          + LOG_LEVELS);
    }
    return new DaemonConfig(
        version,
        path(toml, "root", "/var/lib/jctr", source),
        path(toml, "state", "/run/jctr", source),
        grpcAddress,
        (int) longValue(toml, "grpc.uid", 0, source),
        (int) longValue(toml, "grpc.gid", 0, source),
        (int) longValue(toml, "grpc.max_recv_message_size", 16 << 20, source),
        (int) longValue(toml, "grpc.max_send_message_size", 16 << 20, source),
        ttrpc.isEmpty() ? DaemonConfig.defaultTtrpcAddress(grpcAddress) : Path.of(ttrpc),
        level,
        strings(toml, "disabled_plugins", source),
        pluginSections(toml, source),
        proxyPlugins(toml, source, warnings));
  }

  private static Map<String, Map<String, Object>> pluginSections(TomlTable toml, String source) {
    Map<String, Map<String, Object>> sections = new LinkedHashMap<>();
    if (!toml.isTable("plugins")) {
      return sections;
    }
    TomlTable plugins = toml.getTable("plugins");
    for (String uri : plugins.keySet()) {
      if (!plugins.isTable(List.of(uri))) {
        throw new ConfigException(source + ": plugins.\"" + uri + "\" must be a table");
      }
      sections.put(uri, PluginSection.flatten(plugins.getTable(List.of(uri))));
    }
    return sections;
  }

  /**
   * {@code [proxy_plugins.<name>] type = "snapshot", address = "<unix socket>"}. Types are
   * containerd's short names or full type URIs; kinds this jctrd cannot proxy yet are reported
   * and left out rather than refused, so a containerd config still starts.
   */
  private static Map<String, ProxyPlugin> proxyPlugins(TomlTable toml, String source,
      List<String> warnings) {
    Map<String, ProxyPlugin> proxies = new LinkedHashMap<>();
    if (!toml.isTable("proxy_plugins")) {
      return proxies;
    }
    TomlTable table = toml.getTable("proxy_plugins");
    for (String name : table.keySet()) {
      if (!table.isTable(List.of(name))) {
        throw new ConfigException(source + ": proxy_plugins.\"" + name + "\" must be a table");
      }
      TomlTable proxy = table.getTable(List.of(name));
      String where = source + ": proxy_plugins." + name;
      if (!proxy.isString("type") || !proxy.isString("address")) {
        throw new ConfigException(where + " needs type and address strings, for example"
            + " type = \"snapshot\", address = \"/run/remote-snapshotter.sock\"");
      }
      String type = ProxyPlugin.typeUri(proxy.getString("type"));
      if (type == null) {
        throw new ConfigException(where + ": type \"" + proxy.getString("type")
            + "\" is not one of snapshot, content, diff, sandbox");
      }
      if (!type.equals(ProxyPlugin.SNAPSHOT)) {
        warnings.add(where + ": proxying " + type + " is not supported yet; ignored");
        continue;
      }
      proxies.put(name, new ProxyPlugin(name, type, Path.of(proxy.getString("address"))));
    }
    return proxies;
  }

  private static Path path(TomlTable toml, String key, String fallback, String source) {
    String value = string(toml, key, fallback, source);
    if (value.isEmpty()) {
      throw new ConfigException(source + ": " + key + " must not be empty");
    }
    return Path.of(value);
  }

  private static String string(TomlTable toml, String key, String fallback, String source) {
    if (!toml.contains(key)) {
      return fallback;
    }
    if (!toml.isString(key)) {
      throw new ConfigException(source + ": " + key + " must be a string");
    }
    return toml.getString(key);
  }

  private static long longValue(TomlTable toml, String key, long fallback, String source) {
    if (!toml.contains(key)) {
      return fallback;
    }
    if (!toml.isLong(key)) {
      throw new ConfigException(source + ": " + key + " must be an integer");
    }
    return toml.getLong(key);
  }

  private static List<String> strings(TomlTable toml, String key, String source) {
    if (!toml.contains(key)) {
      return List.of();
    }
    if (!toml.isArray(key)) {
      throw new ConfigException(source + ": " + key + " must be an array of strings");
    }
    TomlArray array = toml.getArray(key);
    List<String> values = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      if (!(array.get(i) instanceof String s)) {
        throw new ConfigException(source + ": " + key + " must be an array of strings");
      }
      values.add(s);
    }
    return values;
  }
}
