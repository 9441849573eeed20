package dev.jctr.cri;

import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.proto.containerd.runc.options.Options;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.typeurl.TypeUrls;
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
 * {@code containerd.runtimes.<handler>.runtime_type}, the handler's runc options
 * {@code containerd.runtimes.<handler>.options.BinaryName} and {@code .Root},
 * {@code stream_server_address}, {@code stream_server_port},
 * {@code max_container_log_line_size}, and {@code registry} ({@link RegistryConfig}).
 */
record CriConfig(String sandboxImage, Path cniConfDir, List<Path> cniBinDirs, String snapshotter,
    String defaultHandler, Map<String, Container.Runtime> runtimes, String streamAddress,
    int streamPort, int maxLogLineSize, RegistryConfig registry) {

  static final String DEFAULT_SANDBOX_IMAGE = "registry.k8s.io/pause:3.10";
  private static final String RUNTIMES = "containerd.runtimes.";

  static CriConfig from(Map<String, Object> properties) {
    Map<String, Container.Runtime> runtimes = new LinkedHashMap<>();
    runtimes.put("jctr", runtime("io.containerd.jctr.v2", runcOptions(properties, "jctr")));
    runtimes.put("runc", runtime("io.containerd.runc.v2", runcOptions(properties, "runc")));
    properties.forEach((key, value) -> {
      if (key.startsWith(RUNTIMES) && key.endsWith(".runtimeType")) {
        String handler = key.substring(RUNTIMES.length(),
            key.length() - ".runtimeType".length());
        runtimes.put(handler, runtime(value.toString(), runcOptions(properties, handler)));
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

  /**
   * A handler's runc options, {@code [...runtimes.<handler>.options]} as containerd reads them
   * into {@code containerd.runc.v1.Options}: field names in any case, so {@code BinaryName}
   * and {@code binary_name} (camelCased to {@code binaryName}) alike.
   */
  private static Options runcOptions(Map<String, Object> properties, String handler) {
    String prefix = RUNTIMES + handler + ".options.";
    Options.Builder options = Options.newBuilder();
    properties.forEach((key, value) -> {
      if (!key.startsWith(prefix)) {
        return;
      }
      String field = key.substring(prefix.length());
      if (field.equalsIgnoreCase("binaryName")) {
        options.setBinaryName(value.toString());
      } else if (field.equalsIgnoreCase("root")) {
        options.setRoot(value.toString());
      }
    });
    return options.build();
  }

  /** A container's runtime: the shim's name, and runc options when there are any. */
  private static Container.Runtime runtime(String type, Options options) {
    Container.Runtime.Builder runtime = Container.Runtime.newBuilder().setName(type);
    if (!options.equals(Options.getDefaultInstance())) {
      runtime.setOptions(TypeUrls.pack(options));
    }
    return runtime.build();
  }

  /**
   * The runtime of a CRI runtime handler ("" is the default handler): the containerd runtime
   * name and the handler's runc options, as a pod's container records carry them.
   */
  Container.Runtime runtimeOf(String handler) {
    String name = handler.isEmpty() ? defaultHandler : handler;
    Container.Runtime runtime = runtimes.get(name);
    if (runtime == null) {
      throw new NotFoundException("no runtime for handler \"" + handler + "\" is configured"
          + " (known: " + String.join(", ", runtimes.keySet()) + "); add [plugins."
          + "\"io.containerd.grpc.v1.cri\".containerd.runtimes." + handler + "] runtime_type");
    }
    return runtime;
  }
}
