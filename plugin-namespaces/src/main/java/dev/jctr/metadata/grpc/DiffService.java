package dev.jctr.metadata.grpc;

import dev.jctr.api.content.ContentStore;
import dev.jctr.api.diff.LayerApplier;
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
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code containerd.services.diff.v1.Diff}: Apply unpacks a layer the call's namespace holds
 * onto an active snapshot's mounts, which is how {@code ctr} unpacks images client-side. The
 * result is the uncompressed layer: its digest is the diffID the client checks.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.diff")
@Plugin(type = PluginTypes.GRPC, id = "diff",
    requires = {PluginTypes.METADATA, PluginTypes.CONTENT, PluginTypes.DIFF})
public final class DiffService extends DiffGrpc.DiffImplBase {

  static final String UNCOMPRESSED = "application/vnd.oci.image.layer.v1.tar";

  private final ContentMetadata metadata;
  private final ContentStore store;
  private final LayerApplier applier;

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
    throw new NotImplementedException("making a layer from two mounts (Diff.Diff)");
  }
}
