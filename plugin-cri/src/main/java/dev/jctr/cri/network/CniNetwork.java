package dev.jctr.cri.network;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jctr.api.host.LinuxHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Pod networking by CNI plugins, per the CNI spec's exec protocol: the first network
 * configuration in the conf dir (a {@code .conflist}, or a single-plugin {@code .conf} /
 * {@code .json}, by file name) plus {@code loopback} for {@code lo}. ADD runs the plugins in list
 * order, each getting the previous one's result; DEL runs them in reverse with the cached
 * result. Capabilities a plugin declares ({@code portMappings}, {@code dns}) get
 * {@code runtimeConfig}.
 */
public final class CniNetwork {

  /** One port a pod publishes on the host. */
  public record PortMapping(int hostPort, int containerPort, String protocol, String hostIp) {}

  /** Who the network is for (CNI_ARGS) and what it asks for (capabilities). */
  public record Attachment(String id, Path netns, String podName, String podNamespace,
      String podUid, List<PortMapping> ports) {}

  /** A network configuration list as loaded from the conf dir. */
  public record NetworkList(Path file, String name, String cniVersion, List<JsonObject> plugins) {}

  /** How a plugin ended: its exit status and what it wrote. */
  private record Result(int exit, String stdout, String stderr) {}

  private final Path confDir;
  private final List<Path> binDirs;
  private final Path cacheDir;
  private final LinuxHost host;

  /** @param cacheDir results kept for DEL, and the plugins' stdin and stdout files */
  public CniNetwork(Path confDir, List<Path> binDirs, Path cacheDir, LinuxHost host) {
    this.confDir = confDir;
    this.binDirs = binDirs;
    this.cacheDir = cacheDir;
    this.host = host;
  }

  public Path confDir() {
    return confDir;
  }

  /** The network pods join, or empty while the conf dir holds none (NetworkReady false). */
  public Optional<NetworkList> network() {
    if (!Files.isDirectory(confDir)) {
      return Optional.empty();
    }
    List<Path> files;
    try (Stream<Path> listing = Files.list(confDir)) {
      files = listing.filter(p -> {
        String name = p.getFileName().toString();
        return name.endsWith(".conflist") || name.endsWith(".conf") || name.endsWith(".json");
      }).sorted().toList();
    } catch (IOException e) {
      return Optional.empty();
    }
    for (Path file : files) {
      try {
        JsonObject json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        List<JsonObject> plugins = new ArrayList<>();
        if (json.has("plugins")) {
          json.getAsJsonArray("plugins").forEach(p -> plugins.add(p.getAsJsonObject()));
        } else if (json.has("type")) {
          plugins.add(json);
        }
        if (!plugins.isEmpty() && json.has("name")) {
          String version = json.has("cniVersion") ? json.get("cniVersion").getAsString()
              : "0.4.0";
          return Optional.of(new NetworkList(file, json.get("name").getAsString(), version,
              plugins));
        }
      } catch (IOException | RuntimeException e) {
        // an unreadable or malformed file is skipped, as libcni does; the next one may serve
      }
    }
    return Optional.empty();
  }

  /** Attaches the pod: lo, then the network's plugins. Returns the last plugin's result. */
  public JsonObject setUp(Attachment pod) throws IOException {
    NetworkList network = network().orElseThrow(() -> new IOException("no CNI network"
        + " configuration in " + confDir + "; add a .conflist there"));
    invoke("ADD", loopback(network.cniVersion()), pod, "lo");
    JsonObject previous = null;
    try {
      for (JsonObject plugin : network.plugins()) {
        JsonObject result = invoke("ADD", pluginConfig(network, plugin, previous, pod),
            pod, "eth0");
        if (result != null) {
          previous = result;
        }
      }
    } catch (IOException e) {
      try {
        tearDown(pod, network, previous);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
    JsonObject cached = new JsonObject();
    cached.addProperty("file", network.file().toString());
    cached.add("result", previous == null ? new JsonObject() : previous);
    JsonArray plugins = new JsonArray();
    network.plugins().forEach(plugins::add);
    cached.add("plugins", plugins);
    cached.addProperty("name", network.name());
    cached.addProperty("cniVersion", network.cniVersion());
    Files.createDirectories(cacheDir);
    Path tmp = cacheDir.resolve(pod.id() + ".tmp");
    Files.writeString(tmp, cached.toString());
    Files.move(tmp, cacheDir.resolve(pod.id() + ".json"), StandardCopyOption.ATOMIC_MOVE);
    return previous == null ? new JsonObject() : previous;
  }

  /**
   * Detaches the pod with the configuration it was attached with (cached at ADD); runs DEL
   * for every plugin, in reverse, even when one fails, and is a no-op for a pod never attached.
   */
  public void tearDown(Attachment pod) throws IOException {
    Path cache = cacheDir.resolve(pod.id() + ".json");
    if (!Files.exists(cache)) {
      return;
    }
    JsonObject cached = JsonParser.parseString(Files.readString(cache)).getAsJsonObject();
    List<JsonObject> plugins = new ArrayList<>();
    cached.getAsJsonArray("plugins").forEach(p -> plugins.add(p.getAsJsonObject()));
    NetworkList network = new NetworkList(Path.of(cached.get("file").getAsString()),
        cached.get("name").getAsString(), cached.get("cniVersion").getAsString(), plugins);
    JsonObject result = cached.getAsJsonObject("result");
    tearDown(pod, network, result.size() == 0 ? null : result);
    Files.deleteIfExists(cache);
  }

  private void tearDown(Attachment pod, NetworkList network, JsonObject result)
      throws IOException {
    IOException failure = null;
    List<JsonObject> reversed = new ArrayList<>(network.plugins());
    java.util.Collections.reverse(reversed);
    for (JsonObject plugin : reversed) {
      try {
        invoke("DEL", pluginConfig(network, plugin, result, pod), pod, "eth0");
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    try {
      invoke("DEL", loopback(network.cniVersion()), pod, "lo");
    } catch (IOException e) {
      failure = failure == null ? e : failure;
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static JsonObject loopback(String version) {
    JsonObject lo = new JsonObject();
    lo.addProperty("cniVersion", version);
    lo.addProperty("name", "cni-loopback");
    lo.addProperty("type", "loopback");
    return lo;
  }

  private static JsonObject pluginConfig(NetworkList network, JsonObject plugin,
      JsonObject previous, Attachment pod) {
    JsonObject config = plugin.deepCopy();
    config.addProperty("name", network.name());
    config.addProperty("cniVersion", network.cniVersion());
    if (previous != null) {
      config.add("prevResult", previous);
    }
    JsonObject capabilities = plugin.has("capabilities")
        ? plugin.getAsJsonObject("capabilities") : new JsonObject();
    JsonObject runtimeConfig = new JsonObject();
    if (enabled(capabilities, "portMappings") && !pod.ports().isEmpty()) {
      JsonArray ports = new JsonArray();
      for (PortMapping port : pod.ports()) {
        JsonObject mapping = new JsonObject();
        mapping.addProperty("hostPort", port.hostPort());
        mapping.addProperty("containerPort", port.containerPort());
        mapping.addProperty("protocol", port.protocol());
        if (!port.hostIp().isEmpty()) {
          mapping.addProperty("hostIP", port.hostIp());
        }
        ports.add(mapping);
      }
      runtimeConfig.add("portMappings", ports);
    }
    if (runtimeConfig.size() > 0) {
      config.add("runtimeConfig", runtimeConfig);
    }
    config.remove("capabilities");
    return config;
  }

  private static boolean enabled(JsonObject capabilities, String name) {
    JsonElement value = capabilities.get(name);
    return value != null && value.isJsonPrimitive() && value.getAsBoolean();
  }

  private JsonObject invoke(String command, JsonObject config, Attachment pod,
      String ifName) throws IOException {
    String type = config.get("type").getAsString();
    Path binary = binDirs.stream().map(dir -> dir.resolve(type)).filter(Files::isExecutable)
        .findFirst().orElseThrow(() -> new IOException("CNI plugin \"" + type + "\" is not in "
            + binDirs + "; install it (Debian: containernetworking-plugins) or set"
            + " cni.bin_dir"));
    Map<String, String> env = new LinkedHashMap<>();
    env.put("CNI_COMMAND", command);
    env.put("CNI_CONTAINERID", pod.id());
    env.put("CNI_NETNS", pod.netns() == null || !Files.exists(pod.netns()) ? ""
        : pod.netns().toString());
    env.put("CNI_IFNAME", ifName);
    env.put("CNI_PATH", String.join(":", binDirs.stream().map(Path::toString).toList()));
    env.put("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + pod.podNamespace()
        + ";K8S_POD_NAME=" + pod.podName() + ";K8S_POD_INFRA_CONTAINER_ID=" + pod.id()
        + ";K8S_POD_UID=" + pod.podUid());
    Result result = run(binary, env, config);
    if (result.exit() != 0) {
      String message = result.stderr().strip();
      try {
        JsonObject error = JsonParser.parseString(result.stdout()).getAsJsonObject();
        message = error.has("msg") ? error.get("msg").getAsString() : message;
        if (error.has("details") && !error.get("details").getAsString().isEmpty()) {
          message += ": " + error.get("details").getAsString();
        }
      } catch (RuntimeException e) {
        // not a CNI error object: stderr says what happened
      }
      throw new IOException("CNI plugin " + type + " " + command + " (" + ifName + ") failed: "
          + message);
    }
    if (!command.equals("ADD") || result.stdout().isBlank()) {
      return null;
    }
    return JsonParser.parseString(result.stdout()).getAsJsonObject();
  }

  /**
   * Runs a plugin with the network configuration as its stdin. Its streams are files, not
   * pipes, so that the host starts it with one posix_spawn (no helper process, no reader
   * threads): three plugins run per pod start.
   */
  private Result run(Path binary, Map<String, String> env, JsonObject config)
      throws IOException {
    Path io = Files.createDirectories(cacheDir.resolve("io"));
    String name = UUID.randomUUID().toString();
    Path in = io.resolve(name + ".in");
    Path out = io.resolve(name + ".out");
    Path err = io.resolve(name + ".err");
    try {
      Files.writeString(in, config.toString());
      int exit = host.run(List.of(binary.toString()), env, in, out, err,
          Duration.ofSeconds(120));
      return new Result(exit, read(out), read(err));
    } catch (RuntimeException e) {
      throw new IOException("CNI plugin " + binary + ": " + e.getMessage(), e);
    } finally {
      Files.deleteIfExists(in);
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  private static String read(Path file) throws IOException {
    return Files.exists(file) ? Files.readString(file) : "";
  }

  /** The pod's IPv4 (first) and other addresses from an ADD result, without prefix lengths. */
  public static List<String> addresses(JsonObject result) {
    List<String> v4 = new ArrayList<>();
    List<String> v6 = new ArrayList<>();
    if (result != null && result.has("ips")) {
      for (JsonElement ip : result.getAsJsonArray("ips")) {
        String address = ip.getAsJsonObject().get("address").getAsString().split("/")[0];
        (address.contains(":") ? v6 : v4).add(address);
      }
    }
    v4.addAll(v6);
    return v4;
  }
}
