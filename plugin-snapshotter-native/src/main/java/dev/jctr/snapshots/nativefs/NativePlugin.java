package dev.jctr.snapshots.nativefs;

import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.snapshots.SnapshotInfo;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.api.snapshots.Usage;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * containerd's {@code io.containerd.snapshotter.v1.native}, as a bundle anyone could ship: it
 * imports only {@code dev.jctr.api} packages and registers a {@link Snapshotter} named
 * {@code native}. Dropped into a running jctrd's bundle folder, it is usable within seconds.
 */
@Component(service = Snapshotter.class, name = "io.containerd.snapshotter.v1.native",
    property = Snapshotter.NAME_PROPERTY + "=native")
@Plugin(type = PluginTypes.SNAPSHOTTER, id = "native")
public final class NativePlugin implements Snapshotter {

  private final NativeSnapshotter snapshotter;

  @Activate
  public NativePlugin(@Reference DaemonEnvironment environment) throws IOException {
    this.snapshotter = new NativeSnapshotter(
        environment.pluginRoot(PluginTypes.SNAPSHOTTER, "native"));
  }

  @Override
  public SnapshotInfo stat(String key) {
    return snapshotter.stat(key);
  }

  @Override
  public SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths) {
    return snapshotter.update(info, fieldPaths);
  }

  @Override
  public Usage usage(String key) {
    return snapshotter.usage(key);
  }

  @Override
  public List<Mount> mounts(String key) {
    return snapshotter.mounts(key);
  }

  @Override
  public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
    return snapshotter.prepare(key, parent, labels);
  }

  @Override
  public List<Mount> view(String key, String parent, Map<String, String> labels) {
    return snapshotter.view(key, parent, labels);
  }

  @Override
  public void commit(String name, String key, Map<String, String> labels) {
    snapshotter.commit(name, key, labels);
  }

  @Override
  public void remove(String key) {
    snapshotter.remove(key);
  }

  @Override
  public void walk(Filter filter, Consumer<SnapshotInfo> visitor) {
    snapshotter.walk(filter, visitor);
  }

  @Override
  public void cleanup() {
    snapshotter.cleanup();
  }

  @Deactivate
  @Override
  public void close() {
    snapshotter.close();
  }
}
