package dev.jctr.metadata.plugin;

import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.metadata.store.ContainerStore;
import dev.jctr.metadata.store.ContentMetadata;
import dev.jctr.metadata.store.ImageStore;
import dev.jctr.metadata.store.LeaseStore;
import dev.jctr.metadata.store.MetadataCollector;
import dev.jctr.metadata.store.MetadataDb;
import dev.jctr.metadata.store.NamespaceStore;
import dev.jctr.metadata.store.SnapshotStore;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * containerd's {@code io.containerd.metadata.v1.bolt}: the metadata database under
 * {@code <root>/io.containerd.metadata.v1.bolt/} and the stores over it. Registered under its
 * own class, which is private to this bundle: other bundles reach metadata through the gRPC
 * services and, later, SPI interfaces in {@code api}.
 */
@Component(service = MetadataPlugin.class, name = "io.containerd.metadata.v1.bolt")
@Plugin(type = PluginTypes.METADATA, id = "bolt")
public final class MetadataPlugin {

  private static final Logger LOG = System.getLogger(MetadataPlugin.class.getName());

  private final MetadataDb db;
  private final NamespaceStore namespaces;
  private final ContainerStore containers;
  private final LeaseStore leases;
  private final SnapshotStore snapshots;
  private final ContentMetadata content;
  private final ImageStore images;
  private final MetadataCollector collector;

  @Activate
  public MetadataPlugin(@Reference DaemonEnvironment environment) throws IOException {
    Path dir = environment.pluginRoot(PluginTypes.METADATA, "bolt");
    this.db = MetadataDb.open(dir);
    this.namespaces = new NamespaceStore(db);
    this.containers = new ContainerStore(db);
    this.leases = new LeaseStore(db);
    this.snapshots = new SnapshotStore(db);
    this.content = new ContentMetadata(db);
    this.images = new ImageStore(db);
    this.collector = new MetadataCollector(db);
    LOG.log(Level.INFO, "metadata database open at {0}", dir);
  }

  public NamespaceStore namespaces() {
    return namespaces;
  }

  public ContainerStore containers() {
    return containers;
  }

  public LeaseStore leases() {
    return leases;
  }

  public SnapshotStore snapshots() {
    return snapshots;
  }

  public ContentMetadata content() {
    return content;
  }

  public ImageStore images() {
    return images;
  }

  public MetadataCollector collector() {
    return collector;
  }

  /** Runs {@code listener} after each write that may have left garbage. */
  public void onGarbage(Runnable listener) {
    db.onGarbage(listener);
  }

  @Deactivate
  public void deactivate() {
    db.close();
  }
}
