package dev.jctr.kernel.env;

import dev.jctr.kernel.config.DaemonConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Framework properties through which the launcher hands the effective daemon configuration (file
 * plus command-line overrides) to the kernel bundle. Only strings cross, since the two sides load
 * this class through different class loaders.
 */
public final class KernelProperties {

  public static final String CONFIG_FILE = "jctr.config.file";
  public static final String ROOT = "jctr.root";
  public static final String STATE = "jctr.state";
  public static final String GRPC_ADDRESS = "jctr.grpc.address";
  public static final String GRPC_UID = "jctr.grpc.uid";
  public static final String GRPC_GID = "jctr.grpc.gid";
  public static final String GRPC_MAX_RECV = "jctr.grpc.max_recv_message_size";
  public static final String GRPC_MAX_SEND = "jctr.grpc.max_send_message_size";
  public static final String TTRPC_ADDRESS = "jctr.ttrpc.address";
  public static final String DISABLED_PLUGINS = "jctr.disabled_plugins";

  private KernelProperties() {}

  public static Map<String, String> of(DaemonConfig config, Path configFile) {
    Map<String, String> properties = new HashMap<>();
    properties.put(CONFIG_FILE, configFile == null ? "" : configFile.toAbsolutePath().toString());
    properties.put(ROOT, config.root().toString());
    properties.put(STATE, config.state().toString());
    properties.put(GRPC_ADDRESS, config.grpcAddress().toString());
    properties.put(GRPC_UID, Integer.toString(config.grpcUid()));
    properties.put(GRPC_GID, Integer.toString(config.grpcGid()));
    properties.put(GRPC_MAX_RECV, Integer.toString(config.maxRecvMessageSize()));
    properties.put(GRPC_MAX_SEND, Integer.toString(config.maxSendMessageSize()));
    properties.put(TTRPC_ADDRESS, config.ttrpcAddress().toString());
    properties.put(DISABLED_PLUGINS, String.join(",", config.disabledPlugins()));
    return properties;
  }
}
