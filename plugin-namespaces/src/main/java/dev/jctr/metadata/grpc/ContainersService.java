package dev.jctr.metadata.grpc;

import com.google.protobuf.Empty;
import dev.jctr.api.events.EventPublisher;
import dev.jctr.api.events.Topics;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.events.ContainerCreate;
import dev.jctr.api.proto.containerd.events.ContainerDelete;
import dev.jctr.api.proto.containerd.events.ContainerUpdate;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerResponse;
import dev.jctr.api.proto.containerd.services.containers.v1.DeleteContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.GetContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.GetContainerResponse;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainerMessage;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersResponse;
import dev.jctr.api.proto.containerd.services.containers.v1.UpdateContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.UpdateContainerResponse;
import dev.jctr.metadata.plugin.MetadataPlugin;
import dev.jctr.metadata.store.ContainerStore;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code containerd.services.containers.v1.Containers}: container metadata in the call's
 * namespace, which every call must carry.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.containers")
@Plugin(type = PluginTypes.GRPC, id = "containers", requires = {PluginTypes.METADATA})
public final class ContainersService implements ContainersGrpc.AsyncService, BindableService {

  private final ContainerStore store;

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private volatile EventPublisher publisher;

  @Activate
  public ContainersService(@Reference MetadataPlugin metadata) {
    this.store = metadata.containers();
  }

  /** For tests: a service over a store, publishing to {@code publisher} when not null. */
  ContainersService(ContainerStore store, EventPublisher publisher) {
    this.store = store;
    this.publisher = publisher;
  }

  @Override
  public void get(GetContainerRequest request, StreamObserver<GetContainerResponse> response) {
    Container container = store.get(CallNamespace.required(), request.getId());
    Reply.send(response, GetContainerResponse.newBuilder().setContainer(container).build());
  }

  /**
   * Serves List and ListStream from the stored records without decoding them: a container is
   * stored in its wire encoding, so a listing is those bytes behind field tags. The other
   * methods are the generated ones.
   */
  @Override
  public ServerServiceDefinition bindService() {
    ServerServiceDefinition generated = ContainersGrpc.bindService(this);
    MethodDescriptor<ListContainersRequest, byte[]> list =
        EncodedMessages.sendsBytes(ContainersGrpc.getListMethod());
    MethodDescriptor<ListContainersRequest, byte[]> listStream =
        EncodedMessages.sendsBytes(ContainersGrpc.getListStreamMethod());
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(ContainersGrpc.SERVICE_NAME)
        .setSchemaDescriptor(generated.getServiceDescriptor().getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : generated.getMethods()) {
      String name = method.getMethodDescriptor().getFullMethodName();
      if (name.equals(list.getFullMethodName())) {
        methods.add(ServerMethodDefinition.create(list,
            ServerCalls.asyncUnaryCall(this::listEncoded)));
      } else if (name.equals(listStream.getFullMethodName())) {
        methods.add(ServerMethodDefinition.create(listStream,
            ServerCalls.asyncServerStreamingCall(this::listStreamEncoded)));
      } else {
        methods.add(method);
      }
    }
    methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
    ServerServiceDefinition.Builder definition =
        ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(definition::addMethod);
    return definition.build();
  }

  private List<byte[]> matching(ListContainersRequest request) {
    return store.listEncoded(CallNamespace.required(),
        Filter.parseAny(request.getFiltersList()));
  }

  /** List: one ListContainersResponse holding every matching container. */
  void listEncoded(ListContainersRequest request, StreamObserver<byte[]> response) {
    Reply.send(response, EncodedMessages.repeated(
        ListContainersResponse.CONTAINERS_FIELD_NUMBER, matching(request)));
  }

  /** ListStream: one ListContainerMessage per container, none holding them all. */
  void listStreamEncoded(ListContainersRequest request, StreamObserver<byte[]> response) {
    ServerCallStreamObserver<byte[]> call = (ServerCallStreamObserver<byte[]>) response;
    for (byte[] container : matching(request)) {
      if (call.isCancelled()) {
        return;
      }
      call.onNext(EncodedMessages.repeated(ListContainerMessage.CONTAINER_FIELD_NUMBER,
          List.of(container)));
    }
    call.onCompleted();
  }

  @Override
  public void create(CreateContainerRequest request,
      StreamObserver<CreateContainerResponse> response) {
    String namespace = CallNamespace.required();
    Container created = store.create(namespace, request.getContainer());
    AfterCommit.publish(() -> publisher, namespace, Topics.CONTAINER_CREATE,
        ContainerCreate.newBuilder()
            .setId(created.getId())
            .setImage(created.getImage())
            .setRuntime(ContainerCreate.Runtime.newBuilder()
                .setName(created.getRuntime().getName())
                .setOptions(created.getRuntime().getOptions()))
            .build());
    Reply.send(response, CreateContainerResponse.newBuilder().setContainer(created).build());
  }

  @Override
  public void update(UpdateContainerRequest request,
      StreamObserver<UpdateContainerResponse> response) {
    String namespace = CallNamespace.required();
    Container updated = store.update(namespace, request.getContainer(),
        request.getUpdateMask().getPathsList());
    AfterCommit.publish(() -> publisher, namespace, Topics.CONTAINER_UPDATE,
        ContainerUpdate.newBuilder()
            .setId(updated.getId())
            .setImage(updated.getImage())
            .putAllLabels(updated.getLabelsMap())
            .setSnapshotKey(updated.getSnapshotKey())
            .build());
    Reply.send(response, UpdateContainerResponse.newBuilder().setContainer(updated).build());
  }

  @Override
  public void delete(DeleteContainerRequest request, StreamObserver<Empty> response) {
    String namespace = CallNamespace.required();
    store.delete(namespace, request.getId());
    AfterCommit.publish(() -> publisher, namespace, Topics.CONTAINER_DELETE,
        ContainerDelete.newBuilder().setId(request.getId()).build());
    Reply.send(response, Empty.getDefaultInstance());
  }
}
