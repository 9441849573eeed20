package dev.jctr.metadata.grpc;

import com.google.protobuf.Empty;
import dev.jctr.api.events.EventPublisher;
import dev.jctr.api.events.Topics;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.services.images.v1.CreateImageRequest;
import dev.jctr.api.proto.containerd.services.images.v1.CreateImageResponse;
import dev.jctr.api.proto.containerd.services.images.v1.DeleteImageRequest;
import dev.jctr.api.proto.containerd.services.images.v1.GetImageRequest;
import dev.jctr.api.proto.containerd.services.images.v1.GetImageResponse;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.services.images.v1.ImageCreate;
import dev.jctr.api.proto.containerd.services.images.v1.ImageDelete;
import dev.jctr.api.proto.containerd.services.images.v1.ImageUpdate;
import dev.jctr.api.proto.containerd.services.images.v1.ImagesGrpc;
import dev.jctr.api.proto.containerd.services.images.v1.ListImagesRequest;
import dev.jctr.api.proto.containerd.services.images.v1.ListImagesResponse;
import dev.jctr.api.proto.containerd.services.images.v1.UpdateImageRequest;
import dev.jctr.api.proto.containerd.services.images.v1.UpdateImageResponse;
import dev.jctr.metadata.gc.GarbageCollector;
import dev.jctr.metadata.plugin.MetadataPlugin;
import dev.jctr.metadata.store.ImageStore;
import io.grpc.BindableService;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code containerd.services.images.v1.Images}: image records in the call's namespace. Delete's
 * {@code sync} returns once a garbage collection after the deletion has run.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.images")
@Plugin(type = PluginTypes.GRPC, id = "images", requires = {PluginTypes.METADATA})
public final class ImagesService extends ImagesGrpc.ImagesImplBase {

  private final ImageStore store;

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private volatile EventPublisher publisher;

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private volatile GarbageCollector collector;

  @Activate
  public ImagesService(@Reference MetadataPlugin metadata) {
    this.store = metadata.images();
  }

  ImagesService(ImageStore store, EventPublisher publisher) {
    this.store = store;
    this.publisher = publisher;
  }

  @Override
  public void get(GetImageRequest request, StreamObserver<GetImageResponse> response) {
    Image image = store.get(CallNamespace.required(), request.getName());
    Reply.send(response, GetImageResponse.newBuilder().setImage(image).build());
  }

  @Override
  public void list(ListImagesRequest request, StreamObserver<ListImagesResponse> response) {
    Reply.send(response, ListImagesResponse.newBuilder().addAllImages(store.list(
        CallNamespace.required(), Filter.parseAny(request.getFiltersList()))).build());
  }

  @Override
  public void create(CreateImageRequest request, StreamObserver<CreateImageResponse> response) {
    String namespace = CallNamespace.required();
    Image created = store.create(namespace, request.getImage());
    AfterCommit.publish(() -> publisher, namespace, Topics.IMAGE_CREATE, ImageCreate
        .newBuilder().setName(created.getName()).putAllLabels(created.getLabelsMap()).build());
    Reply.send(response, CreateImageResponse.newBuilder().setImage(created).build());
  }

  @Override
  public void update(UpdateImageRequest request, StreamObserver<UpdateImageResponse> response) {
    String namespace = CallNamespace.required();
    Image updated = store.update(namespace, request.getImage(),
        request.getUpdateMask().getPathsList());
    AfterCommit.publish(() -> publisher, namespace, Topics.IMAGE_UPDATE, ImageUpdate
        .newBuilder().setName(updated.getName()).putAllLabels(updated.getLabelsMap()).build());
    Reply.send(response, UpdateImageResponse.newBuilder().setImage(updated).build());
  }

  @Override
  public void delete(DeleteImageRequest request, StreamObserver<Empty> response) {
    String namespace = CallNamespace.required();
    store.delete(namespace, request.getName(),
        request.hasTarget() ? Optional.of(request.getTarget()) : Optional.empty());
    AfterCommit.publish(() -> publisher, namespace, Topics.IMAGE_DELETE,
        ImageDelete.newBuilder().setName(request.getName()).build());
    SyncCollection.await(request.getSync(), collector);
    Reply.send(response, Empty.getDefaultInstance());
  }
}
