package dev.jctr.metadata.grpc;

import dev.jctr.api.content.ContentStore;
import dev.jctr.api.diff.LayerApplier;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.jctr.services.images.v1.PullGrpc;
import dev.jctr.api.proto.jctr.services.images.v1.PullProgress;
import dev.jctr.api.proto.jctr.services.images.v1.PullRequest;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.metadata.plugin.MetadataPlugin;
import dev.jctr.metadata.plugin.Snapshotters;
import dev.jctr.metadata.pull.Puller;
import dev.jctr.metadata.transfer.TransferLease;
import io.grpc.BindableService;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code jctr.services.images.v1.Pull}: a pull run by the daemon in the call's namespace, its
 * progress streamed to the caller, the image last.
 */
@Component(service = BindableService.class, name = "io.jctr.grpc.v1.pull")
@Plugin(type = PluginTypes.GRPC, id = "pull",
    requires = {PluginTypes.METADATA, PluginTypes.CONTENT, PluginTypes.DIFF})
public final class PullService extends PullGrpc.PullImplBase {

  private final Puller puller;
  private final Snapshotters snapshotters;
  private volatile String configPath;

  /** {@code [plugins."io.jctr.grpc.v1.pull"]}. */
  public @interface Config {
    /**
     * {@code config_path}: containerd's hosts directory, {@code <dir>/<host>/hosts.toml}
     * (mirrors, CA files, skip_verify, headers); a pull may name another.
     */
    String configPath() default "/etc/containerd/certs.d";
  }

  @Activate
  public PullService(@Reference MetadataPlugin metadata, @Reference ContentStore store,
      @Reference LayerApplier applier, @Reference Snapshotters snapshotters, Config config) {
    this.snapshotters = snapshotters;
    modified(config);
    this.puller = new Puller(store, metadata.content(), metadata.leases(), metadata.images(),
        metadata.snapshots(), applier);
    // transfers a previous run of the daemon was making died with it: let their leftovers go
    metadata.leases().deleteLabelled(TransferLease.LABEL);
    // the first pull should not wait for the HTTP client's first build
    Thread.ofPlatform().name("jctr-pull-warmup").daemon().priority(Thread.MIN_PRIORITY)
        .start(Puller::warmUp);
  }

  @Modified
  void modified(Config config) {
    this.configPath = config.configPath();
  }

  @Override
  public void pull(PullRequest request, StreamObserver<PullProgress> response) {
    String namespace = CallNamespace.required();
    if (request.getRef().isEmpty()) {
      throw new InvalidArgumentException("pull needs an image reference");
    }
    String snapshotter = request.getSnapshotter().isEmpty() ? "overlayfs"
        : request.getSnapshotter();
    Snapshotter backend = request.getSkipUnpack() ? null
        : snapshotters.require(snapshotter, "");
    ServerCallStreamObserver<PullProgress> call =
        (ServerCallStreamObserver<PullProgress>) response;
    Puller.Progress progress = (ref, status, offset, total) -> {
      synchronized (call) {
        if (!call.isCancelled()) {
          call.onNext(PullProgress.newBuilder().setRef(ref).setStatus(status)
              .setOffset(offset).setTotal(total).build());
        }
      }
    };
    Image image;
    try {
      image = puller.pull(namespace, new Puller.Request(request.getRef(),
          request.getPlatform(), request.getPlainHttp(), snapshotter, !request.getSkipUnpack(),
          request.getUsername(), request.getPassword(), request.getHostsDir().isEmpty()
              ? configPath : request.getHostsDir()), backend, progress);
    } catch (IOException e) {
      throw new UncheckedIOException("pull " + request.getRef() + ": " + e.getMessage(), e);
    }
    synchronized (call) {
      call.onNext(PullProgress.newBuilder().setRef(image.getName()).setStatus("done")
          .setImage(image).build());
      call.onCompleted();
    }
  }
}
