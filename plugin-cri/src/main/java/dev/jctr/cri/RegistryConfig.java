package dev.jctr.cri;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Where CRI pulls go, from {@code [plugins."io.containerd.grpc.v1.cri".registry]} as
 * containerd 1.x reads it: either {@code config_path}, a hosts directory
 * ({@code <dir>/<host>/hosts.toml}), or the older inline tables {@code mirrors."<host>".endpoint}
 * (tried in order before the host itself; host {@code "*"} for every registry) and
 * {@code configs."<host>".tls} ({@code insecure_skip_verify}, {@code ca_file}) and
 * {@code configs."<host>".auth} ({@code username}, {@code password}, {@code auth},
 * {@code identitytoken}), used when a PullImage carries no credentials. Both at once is refused,
 * as containerd does. The inline tables become a hosts directory the puller reads.
 */
record RegistryConfig(String configPath, Map<String, List<String>> mirrors,
    Map<String, Tls> tls, Map<String, Credentials> auth) {

  /** The hosts directory when nothing is configured (jctrd's and containerd 2's default). */
  static final String DEFAULT_CONFIG_PATH = "/etc/containerd/certs.d";
  private static final String PREFIX = "registry.";

  record Tls(boolean skipVerify, String caFile) {}

  record Credentials(String username, String password) {}

  static RegistryConfig from(Map<String, Object> properties) {
    Object path = properties.get(PREFIX + "configPath");
    Map<String, List<String>> mirrors = new LinkedHashMap<>();
    Map<String, Tls> tls = new LinkedHashMap<>();
    Map<String, Map<String, String>> auth = new LinkedHashMap<>();
    properties.forEach((key, value) -> {
      String host;
      if ((host = between(key, PREFIX + "mirrors.", ".endpoint")) != null) {
        mirrors.put(host, strings(value));
      } else if ((host = between(key, PREFIX + "configs.", ".tls.insecureSkipVerify")) != null) {
        Tls old = tls.getOrDefault(host, new Tls(false, ""));
        tls.put(host, new Tls(Boolean.parseBoolean(value.toString()), old.caFile()));
      } else if ((host = between(key, PREFIX + "configs.", ".tls.caFile")) != null) {
        Tls old = tls.getOrDefault(host, new Tls(false, ""));
        tls.put(host, new Tls(old.skipVerify(), value.toString()));
      } else if (key.startsWith(PREFIX + "configs.") && key.contains(".auth.")) {
        int at = key.lastIndexOf(".auth.");
        auth.computeIfAbsent(key.substring((PREFIX + "configs.").length(), at),
            h -> new LinkedHashMap<>()).put(key.substring(at + ".auth.".length()),
            value.toString());
      }
    });
    Map<String, Credentials> credentials = new LinkedHashMap<>();
    auth.forEach((host, fields) -> credentials.put(host, credentials(host, fields)));
    if (path != null && !path.toString().isBlank() && !(mirrors.isEmpty() && tls.isEmpty())) {
      throw new IllegalArgumentException("[plugins.\"io.containerd.grpc.v1.cri\".registry]:"
          + " config_path and mirrors/configs.tls cannot both be set; move the mirrors into "
          + path + "/<host>/hosts.toml or remove config_path");
    }
    return new RegistryConfig(path == null || path.toString().isBlank() ? "" : path.toString(),
        Map.copyOf(mirrors), Map.copyOf(tls), Map.copyOf(credentials));
  }

  private static Credentials credentials(String host, Map<String, String> fields) {
    String username = fields.getOrDefault("username", "");
    String password = fields.getOrDefault("password", "");
    String encoded = fields.getOrDefault("auth", "");
    if (username.isEmpty() && !encoded.isEmpty()) {
      Credentials decoded = decodeAuth(encoded);
      if (decoded == null) {
        throw new IllegalArgumentException("registry.configs.\"" + host
            + "\".auth.auth: not base64 of user:password");
      }
      username = decoded.username();
      password = decoded.password();
    }
    if (password.isEmpty()) {
      password = fields.getOrDefault("identitytoken", "");
    }
    return new Credentials(username, password);
  }

  /**
   * Docker's {@code auth} value, base64 of {@code user:password}, as credentials; null when it
   * is not that (the caller names the field in its error).
   */
  static Credentials decodeAuth(String encoded) {
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    int colon = decoded.indexOf(':');
    return colon < 0 ? null
        : new Credentials(decoded.substring(0, colon), decoded.substring(colon + 1));
  }

  /** The host between {@code prefix} and {@code suffix} of {@code key}, or null. */
  private static String between(String key, String prefix, String suffix) {
    return key.startsWith(prefix) && key.endsWith(suffix)
        && key.length() > prefix.length() + suffix.length()
        ? key.substring(prefix.length(), key.length() - suffix.length()) : null;
  }

  private static List<String> strings(Object value) {
    if (value instanceof String[] array) {
      return List.of(array);
    }
    return List.of(value.toString());
  }

  /** Credentials configured for {@code host}, used when a pull brings none. */
  Credentials credentialsFor(String host) {
    return auth.getOrDefault(host, new Credentials("", ""));
  }

  /**
   * The hosts directory pulls read: {@code config_path}, the default one when nothing is
   * configured, or one written under {@code generated} from the inline tables (rewritten on
   * every activation, so a removed mirror is gone).
   */
  String hostsDir(Path generated) throws IOException {
    if (!configPath.isEmpty()) {
      return configPath;
    }
    if (mirrors.isEmpty() && tls.isEmpty()) {
      return DEFAULT_CONFIG_PATH;
    }
    deleteTree(generated);
    TreeSet<String> hosts = new TreeSet<>(mirrors.keySet());
    hosts.addAll(tls.keySet());
    for (String host : hosts) {
      Path dir = Files.createDirectories(generated.resolve(host.equals("*") ? "_default"
          : requireHostName(host)));
      Files.writeString(dir.resolve("hosts.toml"), hostsToml(host));
    }
    return generated.toString();
  }

  /** One registry's hosts.toml: its mirrors in order, then (implicitly) the registry itself. */
  String hostsToml(String host) {
    StringBuilder toml = new StringBuilder("# written by jctrd from the CRI registry config\n");
    Tls own = tls.get(host);
    if (own != null) {
      toml.append(tlsLines(own, ""));
    }
    List<String> endpoints = mirrors.containsKey(host) ? mirrors.get(host)
        : mirrors.getOrDefault("*", List.of());
    for (String endpoint : endpoints) {
      String url = endpoint.contains("://") ? endpoint : "https://" + endpoint;
      toml.append("\n[host.").append(quote(url)).append("]\n")
          .append("  capabilities = [\"pull\", \"resolve\"]\n");
      Tls mirror = tls.get(hostOf(url));
      if (mirror != null) {
        toml.append(tlsLines(mirror, "  "));
      }
    }
    return toml.toString();
  }

  private static String tlsLines(Tls tls, String indent) {
    List<String> lines = new ArrayList<>();
    if (tls.skipVerify()) {
      lines.add(indent + "skip_verify = true\n");
    }
    if (!tls.caFile().isEmpty()) {
      lines.add(indent + "ca = " + quote(tls.caFile()) + "\n");
    }
    return String.join("", lines);
  }

  private static String hostOf(String url) {
    String rest = url.substring(url.indexOf("://") + 3);
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }

  /** A mirror key becomes a directory name: no separators, no "..". */
  private static String requireHostName(String host) {
    if (host.contains("/") || host.contains("\\") || host.equals("..") || host.equals(".")
        || host.isBlank()) {
      throw new IllegalArgumentException("registry.mirrors: \"" + host
          + "\" is not a registry host (host[:port] or \"*\")");
    }
    return host;
  }

  private static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
