package dev.jctr.api.plugin;

/** containerd's plugin type strings, shared so that {@code jctr} and {@code ctr} read the same table. */
public final class PluginTypes {

  public static final String INTERNAL = "io.containerd.internal.v1";
  public static final String GRPC = "io.containerd.grpc.v1";
  public static final String TTRPC = "io.containerd.ttrpc.v1";
  public static final String SERVICE = "io.containerd.service.v1";
  public static final String RUNTIME_V2 = "io.containerd.runtime.v2";
  public static final String SNAPSHOTTER = "io.containerd.snapshotter.v1";
  public static final String CONTENT = "io.containerd.content.v1";
  public static final String METADATA = "io.containerd.metadata.v1";
  public static final String EVENT = "io.containerd.event.v1";
  public static final String LEASE = "io.containerd.lease.v1";
  public static final String GC = "io.containerd.gc.v1";
  public static final String DIFF = "io.containerd.differ.v1";
  public static final String TRANSFER = "io.containerd.transfer.v1";

  /** Service property names {@link Plugin} produces. */
  public static final String TYPE_PROPERTY = "jctr.plugin.type";
  public static final String ID_PROPERTY = "jctr.plugin.id";
  public static final String REQUIRES_PROPERTY = "jctr.plugin.requires";

  private PluginTypes() {}

  /** The plugin URI used for config sections, {@code disabled_plugins} and plugin directories. */
  public static String uri(String type, String id) {
    return type + "." + id;
  }
}
