package dev.jctr.metadata.grpc;

import com.google.protobuf.Empty;
import dev.jctr.api.events.EventPublisher;
import dev.jctr.api.events.Topics;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.leases.CallLease;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.events.SnapshotCommit;
import dev.jctr.api.proto.containerd.events.SnapshotPrepare;
import dev.jctr.api.proto.containerd.events.SnapshotRemove;
import dev.jctr.api.proto.containerd.services.snapshots.v1.CleanupRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.CommitSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.Info;
import dev.jctr.api.proto.containerd.services.snapshots.v1.ListSnapshotsRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.ListSnapshotsResponse;
import dev.jctr.api.proto.containerd.services.snapshots.v1.MountsRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.MountsResponse;
import dev.jctr.api.proto.containerd.services.snapshots.v1.PrepareSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.PrepareSnapshotResponse;
import dev.jctr.api.proto.containerd.services.snapshots.v1.RemoveSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.SnapshotsGrpc;
import dev.jctr.api.proto.containerd.services.snapshots.v1.StatSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.StatSnapshotResponse;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UpdateSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UpdateSnapshotResponse;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UsageRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UsageResponse;
import dev.jctr.api.proto.containerd.services.snapshots.v1.ViewSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.ViewSnapshotResponse;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.api.snapshots.Usage;
import dev.jctr.metadata.plugin.MetadataPlugin;
import dev.jctr.metadata.plugin.Snapshotters;
import dev.jctr.metadata.store.SnapshotStore;
import io.grpc.BindableService;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code containerd.services.snapshots.v1.Snapshots}: snapshots in the call's namespace, on the
 * snapshotter each request names. Snapshotters are whatever {@link Snapshotter} services are
 * registered now, by their {@code name} property: a bundle that arrives adds one, a bundle that
 * leaves takes its one away, with no restart.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.snapshots")
@Plugin(type = PluginTypes.GRPC, id = "snapshots",
    requires = {PluginTypes.METADATA, PluginTypes.SNAPSHOTTER})
public final class SnapshotsService extends SnapshotsGrpc.SnapshotsImplBase {

  private static final Logger LOG = System.getLogger(SnapshotsService.class.getName());

  /** Infos per List response: containerd batches them likewise. */
  static final int LIST_BATCH = 100;

  private final SnapshotStore store;
  private final Snapshotters snapshotters;
  private volatile String fallback = "";

  /** {@code [plugins."io.containerd.grpc.v1.snapshots"]}. */
  public @interface Config {
    /**
     * {@code fallback_snapshotter}: the snapshotter for requests that name one this daemon does
     * not have. A daemon serving as another's proxy plugin receives that daemon's name for it
     * (containerd's proxies send their own name), so it answers them with this one.
     */
    String fallbackSnapshotter() default "";
  }

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private volatile EventPublisher publisher;

  @Activate
  public SnapshotsService(@Reference MetadataPlugin metadata,
      @Reference Snapshotters snapshotters, Config config) {
    this.store = metadata.snapshots();
    this.snapshotters = snapshotters;
    modified(config);
  }

  @Modified
  void modified(Config config) {
    this.fallback = config.fallbackSnapshotter();
  }

  /** For tests: a service over a store and fixed snapshotters. */
  SnapshotsService(SnapshotStore store, Map<String, Snapshotter> snapshotters,
      EventPublisher publisher) {
    this.store = store;
    this.snapshotters = new Snapshotters(snapshotters);
    this.publisher = publisher;
  }

  private Snapshotter backend(String name) {
    return snapshotters.require(name, fallback);
  }

  @Override
  public void prepare(PrepareSnapshotRequest request,
      StreamObserver<PrepareSnapshotResponse> response) {
    String namespace = CallNamespace.required();
    List<Mount> mounts = store.create(namespace, request.getSnapshotter(),
        backend(request.getSnapshotter()), false, request.getKey(), request.getParent(),
        request.getLabelsMap(), CallLease.current());
    AfterCommit.publish(() -> publisher, namespace, Topics.SNAPSHOT_PREPARE,
        SnapshotPrepare.newBuilder().setKey(request.getKey()).setParent(request.getParent())
            .setSnapshotter(request.getSnapshotter()).build());
    Reply.send(response, PrepareSnapshotResponse.newBuilder()
        .addAllMounts(MountMessages.toProto(mounts)).build());
  }

  @Override
  public void view(ViewSnapshotRequest request, StreamObserver<ViewSnapshotResponse> response) {
    String namespace = CallNamespace.required();
    List<Mount> mounts = store.create(namespace, request.getSnapshotter(),
        backend(request.getSnapshotter()), true, request.getKey(), request.getParent(),
        request.getLabelsMap(), CallLease.current());
    Reply.send(response, ViewSnapshotResponse.newBuilder()
        .addAllMounts(MountMessages.toProto(mounts)).build());
  }

  @Override
  public void mounts(MountsRequest request, StreamObserver<MountsResponse> response) {
    List<Mount> mounts = store.mounts(CallNamespace.required(), request.getSnapshotter(),
        backend(request.getSnapshotter()), request.getKey());
    Reply.send(response, MountsResponse.newBuilder()
        .addAllMounts(MountMessages.toProto(mounts)).build());
  }

  @Override
  public void commit(CommitSnapshotRequest request, StreamObserver<Empty> response) {
    String namespace = CallNamespace.required();
    store.commit(namespace, request.getSnapshotter(), backend(request.getSnapshotter()),
        request.getName(), request.getKey(), request.getLabelsMap(), CallLease.current());
    AfterCommit.publish(() -> publisher, namespace, Topics.SNAPSHOT_COMMIT,
        SnapshotCommit.newBuilder().setKey(request.getKey()).setName(request.getName())
            .setSnapshotter(request.getSnapshotter()).build());
    Reply.send(response, Empty.getDefaultInstance());
  }

  @Override
  public void remove(RemoveSnapshotRequest request, StreamObserver<Empty> response) {
    String namespace = CallNamespace.required();
    Snapshotter backend = backend(request.getSnapshotter());
    String backendKey = store.remove(namespace, request.getSnapshotter(), request.getKey());
    try {
      // containerd leaves even this to its collector; dropping it now frees the space now
      backend.remove(backendKey);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "snapshot " + backendKey + " stays in " + request.getSnapshotter()
          + " until the collector's next run: " + e.getMessage());
    }
    AfterCommit.publish(() -> publisher, namespace, Topics.SNAPSHOT_REMOVE,
        SnapshotRemove.newBuilder().setKey(request.getKey())
            .setSnapshotter(request.getSnapshotter()).build());
    Reply.send(response, Empty.getDefaultInstance());
  }

  @Override
  public void stat(StatSnapshotRequest request, StreamObserver<StatSnapshotResponse> response) {
    backend(request.getSnapshotter());
    String namespace = CallNamespace.required();
    // A client under a lease that finds a snapshot (ctr's unpacker, before it builds on an
    // existing layer) keeps it for the lease's life: a collection between this Stat and the
    // label that will reference it would otherwise take it.
    CallLease.optional().ifPresent(lease -> store.leaseIfPresent(namespace,
        request.getSnapshotter(), request.getKey(), lease));
    Info info = store.stat(namespace, request.getSnapshotter(), request.getKey());
    Reply.send(response, StatSnapshotResponse.newBuilder().setInfo(info).build());
  }

  @Override
  public void update(UpdateSnapshotRequest request,
      StreamObserver<UpdateSnapshotResponse> response) {
    backend(request.getSnapshotter());
    Info info = store.update(CallNamespace.required(), request.getSnapshotter(),
        request.getInfo(), request.getUpdateMask().getPathsList());
    Reply.send(response, UpdateSnapshotResponse.newBuilder().setInfo(info).build());
  }

  @Override
  public void list(ListSnapshotsRequest request,
      StreamObserver<ListSnapshotsResponse> response) {
    backend(request.getSnapshotter());
    List<Info> infos = store.list(CallNamespace.required(), request.getSnapshotter(),
        Filter.parseAny(request.getFiltersList()));
    for (int from = 0; from < infos.size(); from += LIST_BATCH) {
      response.onNext(ListSnapshotsResponse.newBuilder()
          .addAllInfo(infos.subList(from, Math.min(infos.size(), from + LIST_BATCH))).build());
    }
    response.onCompleted();
  }

  @Override
  public void usage(UsageRequest request, StreamObserver<UsageResponse> response) {
    Snapshotter backend = backend(request.getSnapshotter());
    String backendKey = store.backendKey(CallNamespace.required(), request.getSnapshotter(),
        request.getKey());
    Usage usage = backend.usage(backendKey);
    Reply.send(response, UsageResponse.newBuilder().setSize(usage.size())
        .setInodes(usage.inodes()).build());
  }

  @Override
  public void cleanup(CleanupRequest request, StreamObserver<Empty> response) {
    backend(request.getSnapshotter()).cleanup();
    Reply.send(response, Empty.getDefaultInstance());
  }
}
