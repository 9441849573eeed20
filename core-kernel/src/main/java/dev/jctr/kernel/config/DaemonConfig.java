package dev.jctr.kernel.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The daemon's configuration: config.toml in containerd's shape, after command-line overrides.
 *
 * @param plugins plugin URI ({@code <type>.<id>}) to that plugin's section, flattened to
 *     ConfigAdmin properties by {@link PluginSection}
 * @param proxyPlugins {@code [proxy_plugins.<name>]}: plugins served by another process
 */
public record DaemonConfig(
    int version,
    Path root,
    Path state,
    Path grpcAddress,
    int grpcUid,
    int grpcGid,
    int maxRecvMessageSize,
    int maxSendMessageSize,
    Path ttrpcAddress,
    String logLevel,
    List<String> disabledPlugins,
    Map<String, Map<String, Object>> plugins,
    Map<String, ProxyPlugin> proxyPlugins) {

  public DaemonConfig {
    disabledPlugins = List.copyOf(disabledPlugins);
    plugins = Map.copyOf(plugins);
    proxyPlugins = Map.copyOf(proxyPlugins);
  }

  public DaemonConfig withRoot(Path value) {
    return new DaemonConfig(version, value, state, grpcAddress, grpcUid, grpcGid,
        maxRecvMessageSize, maxSendMessageSize, ttrpcAddress, logLevel, disabledPlugins, plugins,
        proxyPlugins);
  }

  public DaemonConfig withState(Path value) {
    return new DaemonConfig(version, root, value, grpcAddress, grpcUid, grpcGid,
        maxRecvMessageSize, maxSendMessageSize, ttrpcAddress, logLevel, disabledPlugins, plugins,
        proxyPlugins);
  }

  /** A new gRPC address also moves the default ttrpc address beside it. */
  public DaemonConfig withGrpcAddress(Path value) {
    Path ttrpc = ttrpcAddress.equals(defaultTtrpcAddress(grpcAddress))
        ? defaultTtrpcAddress(value) : ttrpcAddress;
    return new DaemonConfig(version, root, state, value, grpcUid, grpcGid,
        maxRecvMessageSize, maxSendMessageSize, ttrpc, logLevel, disabledPlugins, plugins,
        proxyPlugins);
  }

  public DaemonConfig withLogLevel(String value) {
    return new DaemonConfig(version, root, state, grpcAddress, grpcUid, grpcGid,
        maxRecvMessageSize, maxSendMessageSize, ttrpcAddress, value, disabledPlugins, plugins,
        proxyPlugins);
  }

  static Path defaultTtrpcAddress(Path grpcAddress) {
    return Path.of(grpcAddress + ".ttrpc");
  }
}
