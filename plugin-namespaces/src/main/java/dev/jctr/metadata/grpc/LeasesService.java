package dev.jctr.metadata.grpc;

import com.google.protobuf.Empty;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.services.leases.v1.AddResourceRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.CreateRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.CreateResponse;
import dev.jctr.api.proto.containerd.services.leases.v1.DeleteRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.DeleteResourceRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.LeasesGrpc;
import dev.jctr.api.proto.containerd.services.leases.v1.ListRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.ListResourcesRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.ListResourcesResponse;
import dev.jctr.api.proto.containerd.services.leases.v1.ListResponse;
import dev.jctr.metadata.gc.GarbageCollector;
import dev.jctr.metadata.plugin.MetadataPlugin;
import dev.jctr.metadata.store.LeaseStore;
import io.grpc.BindableService;
import io.grpc.stub.StreamObserver;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code containerd.services.leases.v1.Leases}. Deleting a lease releases what it held; the
 * collection that follows comes with garbage collection (the content issue), so {@code sync}
 * has nothing to wait for yet.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.leases")
@Plugin(type = PluginTypes.GRPC, id = "leases", requires = {PluginTypes.METADATA})
public final class LeasesService extends LeasesGrpc.LeasesImplBase {

  private final LeaseStore store;

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private volatile GarbageCollector collector;

  @Activate
  public LeasesService(@Reference MetadataPlugin metadata) {
    this.store = metadata.leases();
  }

  /** For tests: a service over a store. */
  LeasesService(LeaseStore store) {
    this.store = store;
  }

  @Override
  public void create(CreateRequest request, StreamObserver<CreateResponse> response) {
    var lease = store.create(CallNamespace.required(), request.getId(), request.getLabelsMap());
    Reply.send(response, CreateResponse.newBuilder().setLease(lease).build());
  }

  @Override
  public void delete(DeleteRequest request, StreamObserver<Empty> response) {
    store.delete(CallNamespace.required(), request.getId());
    SyncCollection.await(request.getSync(), collector);
    Reply.send(response, Empty.getDefaultInstance());
  }

  @Override
  public void list(ListRequest request, StreamObserver<ListResponse> response) {
    var leases = store.list(CallNamespace.required(), Filter.parseAny(request.getFiltersList()));
    Reply.send(response, ListResponse.newBuilder().addAllLeases(leases).build());
  }

  @Override
  public void addResource(AddResourceRequest request, StreamObserver<Empty> response) {
    store.addResource(CallNamespace.required(), request.getId(), request.getResource());
    Reply.send(response, Empty.getDefaultInstance());
  }

  @Override
  public void deleteResource(DeleteResourceRequest request, StreamObserver<Empty> response) {
    store.deleteResource(CallNamespace.required(), request.getId(), request.getResource());
    Reply.send(response, Empty.getDefaultInstance());
  }

  @Override
  public void listResources(ListResourcesRequest request,
      StreamObserver<ListResourcesResponse> response) {
    var resources = store.listResources(CallNamespace.required(), request.getId());
    Reply.send(response, ListResourcesResponse.newBuilder().addAllResources(resources).build());
  }
}
