package dev.jctr.metadata.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.FieldMask;
import dev.jctr.api.content.Digests;
import dev.jctr.api.proto.containerd.services.images.v1.CreateImageRequest;
import dev.jctr.api.proto.containerd.services.images.v1.DeleteImageRequest;
import dev.jctr.api.proto.containerd.services.images.v1.GetImageRequest;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.services.images.v1.ImagesGrpc;
import dev.jctr.api.proto.containerd.services.images.v1.ImagesGrpc.ImagesBlockingStub;
import dev.jctr.api.proto.containerd.services.images.v1.ListImagesRequest;
import dev.jctr.api.proto.containerd.services.images.v1.UpdateImageRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.DeleteNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.NamespacesGrpc;
import dev.jctr.api.proto.containerd.types.Descriptor;
import dev.jctr.metadata.store.ImageStore;
import dev.jctr.metadata.store.MetadataDb;
import dev.jctr.metadata.store.NamespaceStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesServiceTest {

  private static final String INDEX = "application/vnd.oci.image.index.v1+json";

  @TempDir Path dir;
  private MetadataDb db;
  private InProcessServer server;
  private final List<String> events = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    db = MetadataDb.open(dir);
    server = new InProcessServer(
        new ImagesService(new ImageStore(db), (ns, topic, e) -> events.add(ns + " " + topic)),
        new NamespacesService(new NamespaceStore(db), null));
  }

  @AfterEach
  void stop() {
    server.close();
    db.close();
  }

  private ImagesBlockingStub in(String namespace) {
    return ImagesGrpc.newBlockingStub(server.channel(namespace));
  }

  private static Image image(String name, String content) {
    return Image.newBuilder().setName(name).putLabels("owner", "test")
        .setTarget(Descriptor.newBuilder().setMediaType(INDEX).setSize(10)
            .setDigest(Digests.of(content.getBytes()))).build();
  }

  private static Status.Code code(Supplier<?> call) {
    return assertThrows(StatusRuntimeException.class, call::get).getStatus().getCode();
  }

  @Test
  void imagesAreCreatedListedAndDeletedPerNamespace() {
    in("k8s.io").create(CreateImageRequest.newBuilder().setImage(image("busybox:1", "a")).build());
    in("moby").create(CreateImageRequest.newBuilder().setImage(image("busybox:1", "b")).build());
    assertEquals(Digests.of("a".getBytes()), in("k8s.io").get(GetImageRequest.newBuilder()
        .setName("busybox:1").build()).getImage().getTarget().getDigest());
    assertEquals(Status.Code.ALREADY_EXISTS, code(() -> in("k8s.io").create(CreateImageRequest
        .newBuilder().setImage(image("busybox:1", "c")).build())));
    assertEquals(Status.Code.FAILED_PRECONDITION, code(() -> NamespacesGrpc.newBlockingStub(
        server.channel(null)).delete(DeleteNamespaceRequest.newBuilder().setName("moby")
            .build())), "a namespace holding images stays");

    Descriptor other = image("x", "zzz").getTarget();
    assertEquals(Status.Code.NOT_FOUND, code(() -> in("k8s.io").delete(DeleteImageRequest
        .newBuilder().setName("busybox:1").setTarget(other).build())),
        "delete only while it points at the given target");
    in("k8s.io").delete(DeleteImageRequest.newBuilder().setName("busybox:1").setSync(true)
        .build());
    assertEquals(Status.Code.NOT_FOUND, code(() -> in("k8s.io").get(GetImageRequest.newBuilder()
        .setName("busybox:1").build())));
    assertEquals(1, in("moby").list(ListImagesRequest.getDefaultInstance()).getImagesCount());
    assertEquals(List.of("k8s.io /images/create", "moby /images/create",
        "k8s.io /images/delete"), events);
  }

  @Test
  void updatesFollowTheFieldMaskAndListsFilter() {
    in("k8s.io").create(CreateImageRequest.newBuilder().setImage(image("app:1", "a")).build());
    in("k8s.io").create(CreateImageRequest.newBuilder().setImage(image("app:2", "b")).build());
    Image change = image("app:1", "new").toBuilder().clearLabels().putLabels("tier", "web")
        .setTarget(image("app:1", "new").getTarget().toBuilder().putAnnotations("a", "b"))
        .build();
    Image updated = in("k8s.io").update(UpdateImageRequest.newBuilder().setImage(change)
        .setUpdateMask(FieldMask.newBuilder().addPaths("labels.tier")
            .addPaths("annotations.a")).build()).getImage();
    assertEquals("test", updated.getLabelsMap().get("owner"));
    assertEquals("web", updated.getLabelsMap().get("tier"));
    assertEquals(Digests.of("a".getBytes()), updated.getTarget().getDigest(), "target kept");
    assertEquals("b", updated.getTarget().getAnnotationsMap().get("a"));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> in("k8s.io").update(UpdateImageRequest
        .newBuilder().setImage(change).setUpdateMask(FieldMask.newBuilder().addPaths("name"))
        .build())));

    assertEquals(List.of("app:1"), in("k8s.io").list(ListImagesRequest.newBuilder()
        .addFilters("labels.tier==web").build()).getImagesList().stream().map(Image::getName)
        .toList());
    assertEquals(List.of("app:2"), in("k8s.io").list(ListImagesRequest.newBuilder()
        .addFilters("target.digest==" + Digests.of("b".getBytes())).build()).getImagesList()
        .stream().map(Image::getName).toList());
  }

  @Test
  void badImagesAreRefused() {
    for (Image bad : List.of(image("", "a"),
        image("x", "a").toBuilder().setTarget(Descriptor.newBuilder().setMediaType(INDEX)
            .setDigest("sha256:nothex")).build(),
        image("x", "a").toBuilder().clearTarget().build(),
        image("x", "a").toBuilder().setTarget(image("x", "a").getTarget().toBuilder()
            .setMediaType("")).build(),
        image("x", "a").toBuilder().putLabels("big", "v".repeat(5000)).build())) {
      assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> in("k8s.io").create(
          CreateImageRequest.newBuilder().setImage(bad).build())), bad.toString());
    }
    assertEquals(0, in("k8s.io").list(ListImagesRequest.getDefaultInstance()).getImagesCount());
  }
}
