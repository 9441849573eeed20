package dev.jctr.metadata.grpc;

import com.google.protobuf.Empty;
import dev.jctr.api.events.EventPublisher;
import dev.jctr.api.events.Topics;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.events.NamespaceCreate;
import dev.jctr.api.proto.containerd.events.NamespaceDelete;
import dev.jctr.api.proto.containerd.events.NamespaceUpdate;
import dev.jctr.api.proto.containerd.services.namespaces.v1.CreateNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.CreateNamespaceResponse;
import dev.jctr.api.proto.containerd.services.namespaces.v1.DeleteNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.GetNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.GetNamespaceResponse;
import dev.jctr.api.proto.containerd.services.namespaces.v1.ListNamespacesRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.ListNamespacesResponse;
import dev.jctr.api.proto.containerd.services.namespaces.v1.Namespace;
import dev.jctr.api.proto.containerd.services.namespaces.v1.NamespacesGrpc;
import dev.jctr.api.proto.containerd.services.namespaces.v1.UpdateNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.UpdateNamespaceResponse;
import dev.jctr.metadata.plugin.MetadataPlugin;
import dev.jctr.metadata.store.NamespaceStore;
import io.grpc.BindableService;
import io.grpc.stub.StreamObserver;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code containerd.services.namespaces.v1.Namespaces}. Namespace calls name the namespace in
 * the request, not in the call's metadata, as in containerd.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.namespaces")
@Plugin(type = PluginTypes.GRPC, id = "namespaces", requires = {PluginTypes.METADATA})
public final class NamespacesService extends NamespacesGrpc.NamespacesImplBase {

  private final NamespaceStore store;

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private volatile EventPublisher publisher;

  @Activate
  public NamespacesService(@Reference MetadataPlugin metadata) {
    this.store = metadata.namespaces();
  }

  /** For tests: a service over a store, publishing to {@code publisher} when not null. */
  NamespacesService(NamespaceStore store, EventPublisher publisher) {
    this.store = store;
    this.publisher = publisher;
  }

  @Override
  public void get(GetNamespaceRequest request, StreamObserver<GetNamespaceResponse> response) {
    Namespace namespace = store.get(request.getName());
    Reply.send(response, GetNamespaceResponse.newBuilder().setNamespace(namespace).build());
  }

  @Override
  public void list(ListNamespacesRequest request,
      StreamObserver<ListNamespacesResponse> response) {
    Reply.send(response, ListNamespacesResponse.newBuilder().addAllNamespaces(store.list()).build());
  }

  @Override
  public void create(CreateNamespaceRequest request,
      StreamObserver<CreateNamespaceResponse> response) {
    Namespace created = store.create(request.getNamespace());
    AfterCommit.publish(() -> publisher, created.getName(), Topics.NAMESPACE_CREATE,
        NamespaceCreate.newBuilder().setName(created.getName())
            .putAllLabels(created.getLabelsMap()).build());
    Reply.send(response, CreateNamespaceResponse.newBuilder().setNamespace(created).build());
  }

  @Override
  public void update(UpdateNamespaceRequest request,
      StreamObserver<UpdateNamespaceResponse> response) {
    Namespace updated = store.update(request.getNamespace(),
        request.getUpdateMask().getPathsList());
    AfterCommit.publish(() -> publisher, updated.getName(), Topics.NAMESPACE_UPDATE,
        NamespaceUpdate.newBuilder().setName(updated.getName())
            .putAllLabels(updated.getLabelsMap()).build());
    Reply.send(response, UpdateNamespaceResponse.newBuilder().setNamespace(updated).build());
  }

  @Override
  public void delete(DeleteNamespaceRequest request, StreamObserver<Empty> response) {
    store.delete(request.getName());
    AfterCommit.publish(() -> publisher, request.getName(), Topics.NAMESPACE_DELETE,
        NamespaceDelete.newBuilder().setName(request.getName()).build());
    Reply.send(response, Empty.getDefaultInstance());
  }
}
