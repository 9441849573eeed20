package dev.jctr.snapshots.overlay;

import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.plugin.SkipPluginException;
import dev.jctr.api.snapshots.SnapshotInfo;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.api.snapshots.Usage;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * containerd's {@code io.containerd.snapshotter.v1.overlayfs}: the overlay snapshotter under
 * {@code <root>/io.containerd.snapshotter.v1.overlayfs/}, registered as the {@link Snapshotter}
 * named {@code overlayfs}. Skipped, with the reason, where overlay does not work under root.
 */
@Component(service = Snapshotter.class, name = "io.containerd.snapshotter.v1.overlayfs",
    property = Snapshotter.NAME_PROPERTY + "=overlayfs")
@Plugin(type = PluginTypes.SNAPSHOTTER, id = "overlayfs")
public final class OverlayPlugin implements Snapshotter {

  private static final Logger LOG = System.getLogger(OverlayPlugin.class.getName());

  private final OverlaySnapshotter snapshotter;

  @Activate
  public OverlayPlugin(@Reference DaemonEnvironment environment) throws IOException {
    Path root = environment.pluginRoot(PluginTypes.SNAPSHOTTER, "overlayfs");
    String reason = OverlaySupport.unsupportedReason(root);
    if (reason != null) {
      throw new SkipPluginException(reason);
    }
    this.snapshotter = new OverlaySnapshotter(root, OverlaySupport.extraOptions());
    LOG.log(Level.INFO, "overlayfs snapshotter at {0}", root);
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
