package dev.jctr.snapshots.overlay;

import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.plugin.SkipPluginException;
import dev.jctr.api.snapshots.Snapshotter;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
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
public final class OverlayPlugin extends OverlaySnapshotter {

  private static final Logger LOG = System.getLogger(OverlayPlugin.class.getName());

  @Activate
  public OverlayPlugin(@Reference DaemonEnvironment environment) throws IOException {
    super(overlayCapable(environment.pluginRoot(PluginTypes.SNAPSHOTTER, "overlayfs")),
        OverlaySupport.extraOptions());
  }

  /** {@code root}, once a real overlay mount has worked there. */
  private static Path overlayCapable(Path root) {
    String reason = OverlaySupport.unsupportedReason(root);
    if (reason != null) {
      throw new SkipPluginException(reason);
    }
    LOG.log(Level.INFO, "overlayfs snapshotter at {0}", root);
    return root;
  }

  @Deactivate
  void deactivate() {
    close();
  }
}
