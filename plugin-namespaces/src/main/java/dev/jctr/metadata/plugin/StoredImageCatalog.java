package dev.jctr.metadata.plugin;

import dev.jctr.api.content.ContentStore;
import dev.jctr.api.diff.LayerApplier;
import dev.jctr.api.events.EventPublisher;
import dev.jctr.api.events.Topics;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.images.ImageCatalog;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.services.images.v1.ImageDelete;
import dev.jctr.metadata.pull.Puller;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.util.List;
import java.util.Optional;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@link ImageCatalog} over the metadata database, the content store and the puller, for the
 * CRI. Registries on the loopback are reached over plain HTTP, as containerd's resolver does
 * for localhost; others as the caller's hosts directory says.
 */
@Component(service = ImageCatalog.class)
public final class StoredImageCatalog implements ImageCatalog {

  private final MetadataPlugin metadata;
  private final ContentStore store;
  private final Snapshotters snapshotters;
  private final Puller puller;

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private volatile EventPublisher publisher;

  @Activate
  public StoredImageCatalog(@Reference MetadataPlugin metadata, @Reference ContentStore store,
      @Reference LayerApplier applier, @Reference Snapshotters snapshotters) {
    this.metadata = metadata;
    this.store = store;
    this.snapshotters = snapshotters;
    this.puller = new Puller(store, metadata.content(), metadata.leases(), metadata.images(),
        metadata.snapshots(), applier);
  }

  @Override
  public List<Image> list(String namespace) {
    return metadata.images().list(namespace, Filter.always());
  }

  @Override
  public Image get(String namespace, String name) {
    return metadata.images().get(namespace, name);
  }

  @Override
  public void delete(String namespace, String name) {
    metadata.images().delete(namespace, name, Optional.empty());
    EventPublisher events = publisher;
    if (events != null) {
      events.publish(namespace, Topics.IMAGE_DELETE, ImageDelete.newBuilder().setName(name)
          .build());
    }
  }

  @Override
  public Image pull(String namespace, String reference, String username, String password,
      String snapshotter, String hostsDir) throws IOException {
    String host = reference.contains("/") ? reference.substring(0, reference.indexOf('/')) : "";
    boolean loopback = host.startsWith("localhost") || host.startsWith("127.")
        || host.startsWith("[::1]");
    return puller.pull(namespace, new Puller.Request(reference, "", loopback, snapshotter,
        true, username, password, hostsDir),
        snapshotters.require(snapshotter, ""), (ref, status, offset, total) -> { });
  }

  @Override
  public byte[] read(String namespace, String digest) throws IOException {
    metadata.content().require(namespace, digest);
    try (SeekableByteChannel channel = store.open(digest);
        InputStream in = Channels.newInputStream(channel)) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      in.transferTo(bytes);
      return bytes.toByteArray();
    }
  }
}
