package dev.jctr.snapshots.nativefs;

import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.snapshots.Snapshotter;
import java.io.IOException;
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
public final class NativePlugin extends NativeSnapshotter {

  @Activate
  public NativePlugin(@Reference DaemonEnvironment environment) throws IOException {
    super(environment.pluginRoot(PluginTypes.SNAPSHOTTER, "native"));
  }

  @Deactivate
  void deactivate() {
    close();
  }
}
