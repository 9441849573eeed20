package dev.jctr.kernel.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The daemon's configuration: config.toml in containerd's shape, after command-line overrides.
 *
 * @param plugins plugin URI ({@code <type>.<id>}) to that plugin's section, flattened to
 *     ConfigAdmin properties by {@link PluginSection}
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
    Map<String, Map<String, Object>> plugins) {

  public DaemonConfig {
    disabledPlugins = List.copyOf(disabledPlugins);
    plugins = Map.copyOf(plugins);
  }

  public DaemonConfig withRoot(Path value) {
    return new DaemonConfig(version, value, state, grpcAddress, grpcUid, grpcGid,
        maxRecvMessageSize, maxSendMessageSize, ttrpcAddress, logLevel, disabledPlugins, plugins);
  }

  public DaemonConfig withState(Path value) {
    return new DaemonConfig(version, root, value, grpcAddress, grpcUid, grpcGid,
        maxRecvMessageSize, maxSendMessageSize, ttrpcAddress, logLevel, disabledPlugins, plugins);
  }

  /** A new gRPC address also moves the default ttrpc address beside it. */
  public DaemonConfig withGrpcAddress(Path value) {
    Path ttrpc = ttrpcAddress.equals(defaultTtrpcAddress(grpcAddress))
        ? defaultTtrpcAddress(value) : ttrpcAddress;
    return new DaemonConfig(version, root, state, value, grpcUid, grpcGid,
        maxRecvMessageSize, maxSendMessageSize, ttrpc, logLevel, disabledPlugins, plugins);
  }

  public DaemonConfig withLogLevel(String value) {
    return new DaemonConfig(version, root, state, grpcAddress, grpcUid, grpcGid,
        maxRecvMessageSize, maxSendMessageSize, ttrpcAddress, value, disabledPlugins, plugins);
  }

  static Path defaultTtrpcAddress(Path grpcAddress) {
    return Path.of(grpcAddress + ".ttrpc");
  }
}
