package dev.jctr.cri;

import dev.jctr.api.errors.NotFoundException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CRI plugin's settings, from {@code [plugins."io.containerd.grpc.v1.cri"]} in config.toml
 * (keys as containerd 1.x spells them; the kernel hands them over in camelCase):
 * {@code sandbox_image}, {@code cni.conf_dir}, {@code cni.bin_dir} (several joined by
 * {@code :}), {@code containerd.snapshotter}, {@code containerd.default_runtime_name},
 * {@code containerd.runtimes.<handler>.runtime_type}, {@code stream_server_address},
 * {@code stream_server_port}, {@code max_container_log_line_size}, and {@code registry}
 * ({@link RegistryConfig}).
 */
record CriConfig(String sandboxImage, Path cniConfDir, List<Path> cniBinDirs, String snapshotter,
    String defaultHandler, Map<String, String> runtimes, String streamAddress, int streamPort,
    int maxLogLineSize, RegistryConfig registry) {

  static final String DEFAULT_SANDBOX_IMAGE = "registry.k8s.io/pause:3.10";

  static CriConfig from(Map<String, Object> properties) {
    Map<String, String> runtimes = new LinkedHashMap<>();
    runtimes.put("jctr", "io.containerd.jctr.v2");
    runtimes.put("runc", "io.containerd.runc.v2");
    properties.forEach((key, value) -> {
      if (key.startsWith("containerd.runtimes.") && key.endsWith(".runtimeType")) {
        runtimes.put(key.substring("containerd.runtimes.".length(),
            key.length() - ".runtimeType".length()), value.toString());
      }
    });
    List<Path> binDirs = new ArrayList<>();
    for (String dir : text(properties, "cni.binDir", "/opt/cni/bin:/usr/lib/cni").split(":")) {
      if (!dir.isBlank()) {
        binDirs.add(Path.of(dir));
      }
    }
    return new CriConfig(text(properties, "sandboxImage", DEFAULT_SANDBOX_IMAGE),
        Path.of(text(properties, "cni.confDir", "/etc/cni/net.d")), List.copyOf(binDirs),
        text(properties, "containerd.snapshotter", "overlayfs"),
        text(properties, "containerd.defaultRuntimeName", "jctr"), Map.copyOf(runtimes),
        text(properties, "streamServerAddress", "127.0.0.1"),
        Integer.parseInt(text(properties, "streamServerPort", "0")),
        Integer.parseInt(text(properties, "maxContainerLogLineSize", "16384")),
        RegistryConfig.from(properties));
  }

  private static String text(Map<String, Object> properties, String key, String fallback) {
    Object value = properties.get(key);
    return value == null || value.toString().isBlank() ? fallback : value.toString();
  }

  /** The containerd runtime name of a CRI runtime handler ("" is the default handler). */
  String runtimeOf(String handler) {
    String name = handler.isEmpty() ? defaultHandler : handler;
    String runtime = runtimes.get(name);
    if (runtime == null) {
      throw new NotFoundException("no runtime for handler \"" + handler + "\" is configured"
          + " (known: " + String.join(", ", runtimes.keySet()) + "); add [plugins."
          + "\"io.containerd.grpc.v1.cri\".containerd.runtimes." + handler + "] runtime_type");
    }
    return runtime;
  }
}
