package dev.jctr.metadata.grpc;

import dev.jctr.api.content.ContentStore;
import dev.jctr.api.content.ContentWriter;
import dev.jctr.api.diff.LayerApplier;
import dev.jctr.api.diff.LayerDiffer;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.leases.CallLease;
import dev.jctr.api.errors.NotImplementedException;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.services.diff.v1.ApplyRequest;
import dev.jctr.api.proto.containerd.services.diff.v1.ApplyResponse;
import dev.jctr.api.proto.containerd.services.diff.v1.DiffGrpc;
import dev.jctr.api.proto.containerd.services.diff.v1.DiffRequest;
import dev.jctr.api.proto.containerd.services.diff.v1.DiffResponse;
import dev.jctr.api.proto.containerd.types.Descriptor;
import dev.jctr.metadata.plugin.MetadataPlugin;
import dev.jctr.metadata.store.ContentMetadata;
import io.grpc.BindableService;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code containerd.services.diff.v1.Diff}: Apply unpacks a layer the call's namespace holds
 * onto an active snapshot's mounts, which is how {@code ctr} unpacks images client-side. The
 * result is the uncompressed layer: its digest is the diffID the client checks. Diff makes a
 * layer from two snapshots' mounts into the content store, labelled with its diffID.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.diff")
@Plugin(type = PluginTypes.GRPC, id = "diff",
    requires = {PluginTypes.METADATA, PluginTypes.CONTENT, PluginTypes.DIFF})
public final class DiffService extends DiffGrpc.DiffImplBase {

  static final String UNCOMPRESSED = "application/vnd.oci.image.layer.v1.tar";
  static final String GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

  private final ContentMetadata metadata;
  private final ContentStore store;
  private final LayerApplier applier;

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private volatile LayerDiffer differ;

  @Activate
  public DiffService(@Reference MetadataPlugin metadata, @Reference ContentStore store,
      @Reference LayerApplier applier) {
    this(metadata.content(), store, applier);
  }

  DiffService(ContentMetadata metadata, ContentStore store, LayerApplier applier) {
    this.metadata = metadata;
    this.store = store;
    this.applier = applier;
  }

  @Override
  public void apply(ApplyRequest request, StreamObserver<ApplyResponse> response) {
    Descriptor layer = request.getDiff();
    metadata.require(CallNamespace.required(), layer.getDigest());
    List<Mount> mounts = request.getMountsList().stream()
        .map(m -> new Mount(m.getType(), m.getSource(), m.getTarget(), m.getOptionsList()))
        .toList();
    LayerApplier.Applied applied;
    try (InputStream in = Channels.newInputStream(store.open(layer.getDigest()))) {
      applied = applier.apply(in, layer.getMediaType(), mounts);
    } catch (IOException e) {
      throw new UncheckedIOException("apply " + layer.getDigest() + ": " + e.getMessage(), e);
    }
    Reply.send(response, ApplyResponse.newBuilder().setApplied(Descriptor.newBuilder()
        .setMediaType(UNCOMPRESSED).setDigest(applied.diffId()).setSize(applied.size()))
        .build());
  }

  @Override
  public void diff(DiffRequest request, StreamObserver<DiffResponse> response) {
    String namespace = CallNamespace.required();
    LayerDiffer layers = differ;
    if (layers == null) {
      throw new NotImplementedException("making a layer from two mounts: no differ bundle");
    }
    if (request.getRightCount() == 0) {
      throw new InvalidArgumentException("diff needs the upper (right) snapshot's mounts");
    }
    String mediaType = request.getMediaType().isEmpty() ? GZIP : request.getMediaType();
    String ref = request.getRef().isEmpty() ? "diff-" + System.nanoTime() : request.getRef();
    String backendRef = ContentService.backendRef(namespace, ref);
    try (ContentWriter writer = store.writer(backendRef, 0, "")) {
      writer.truncate();
      LayerDiffer.Produced produced = layers.diff(mounts(request.getLeftList()),
          mounts(request.getRightList()), mediaType, new WriterStream(writer));
      Map<String, String> labels = new HashMap<>(request.getLabelsMap());
      labels.put("containerd.io/uncompressed", produced.diffId());
      long size = writer.offset();
      String digest = writer.digest();
      metadata.commitLock().lock();
      try {
        try {
          writer.commit(size, "");
        } catch (AlreadyExistsException e) {
          // the same layer was made before: it is shared below all the same
        }
        metadata.add(namespace, digest, size, labels, CallLease.current());
      } finally {
        metadata.commitLock().unlock();
      }
      Reply.send(response, DiffResponse.newBuilder().setDiff(Descriptor.newBuilder()
          .setMediaType(mediaType).setDigest(digest).setSize(size)).build());
    } catch (IOException e) {
      abort(backendRef);
      throw new UncheckedIOException("diff: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      abort(backendRef);
      throw e;
    }
  }

  private void abort(String backendRef) {
    try {
      if (store.status(backendRef).isPresent()) {
        store.abort(backendRef);
      }
    } catch (IOException | RuntimeException ignored) {
      // the ingest expires with the collector
    }
  }

  private static List<Mount> mounts(List<dev.jctr.api.proto.containerd.types.Mount> mounts) {
    return mounts.stream()
        .map(m -> new Mount(m.getType(), m.getSource(), m.getTarget(), m.getOptionsList()))
        .toList();
  }

  /** The differ's output, into a content writer. */
  private static final class WriterStream extends java.io.OutputStream {
    private final ContentWriter writer;

    WriterStream(ContentWriter writer) {
      this.writer = writer;
    }

    @Override
    public void write(int b) throws IOException {
      writer.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) b}));
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      writer.write(java.nio.ByteBuffer.wrap(bytes, offset, length));
    }
  }
}
