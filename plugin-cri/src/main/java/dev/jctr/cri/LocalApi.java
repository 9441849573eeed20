package dev.jctr.cri;

import dev.jctr.api.leases.CallLease;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc.ContainersBlockingStub;
import dev.jctr.api.proto.containerd.services.leases.v1.LeasesGrpc;
import dev.jctr.api.proto.containerd.services.leases.v1.LeasesGrpc.LeasesBlockingStub;
import dev.jctr.api.proto.containerd.services.snapshots.v1.SnapshotsGrpc;
import dev.jctr.api.proto.containerd.services.snapshots.v1.SnapshotsGrpc.SnapshotsBlockingStub;
import dev.jctr.api.proto.containerd.services.tasks.v1.TasksGrpc;
import dev.jctr.api.proto.containerd.services.tasks.v1.TasksGrpc.TasksBlockingStub;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;

/**
 * The daemon's containers, snapshots, leases and tasks services as the CRI calls them: in
 * process, in namespace {@code k8s.io}, as any client would.
 */
final class LocalApi {

  private static final Metadata.Key<String> NAMESPACE =
      Metadata.Key.of(CallNamespace.GRPC_HEADER, Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> LEASE =
      Metadata.Key.of(CallLease.GRPC_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  private final ContainersBlockingStub containers;
  private final SnapshotsBlockingStub snapshots;
  private final LeasesBlockingStub leases;
  private final TasksBlockingStub tasks;

  LocalApi(Channel channel, String namespace) {
    Metadata headers = new Metadata();
    headers.put(NAMESPACE, namespace);
    this.containers = inNamespace(ContainersGrpc.newBlockingStub(channel), headers);
    this.snapshots = inNamespace(SnapshotsGrpc.newBlockingStub(channel), headers);
    this.leases = inNamespace(LeasesGrpc.newBlockingStub(channel), headers);
    this.tasks = inNamespace(TasksGrpc.newBlockingStub(channel), headers);
  }

  private static <S extends AbstractStub<S>> S inNamespace(S stub, Metadata headers) {
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  ContainersBlockingStub containers() {
    return containers;
  }

  SnapshotsBlockingStub snapshots() {
    return snapshots;
  }

  /** Snapshot calls whose new snapshots join lease {@code lease} until it is deleted. */
  SnapshotsBlockingStub snapshots(String lease) {
    Metadata headers = new Metadata();
    headers.put(LEASE, lease);
    return snapshots.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  LeasesBlockingStub leases() {
    return leases;
  }

  TasksBlockingStub tasks() {
    return tasks;
  }

  static boolean notFound(StatusRuntimeException e) {
    return e.getStatus().getCode() == Status.Code.NOT_FOUND;
  }

  /** Runs a clean-up call that may find its object gone already. */
  static void ignoringNotFound(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      if (!notFound(e)) {
        throw e;
      }
    }
  }
}
