package dev.jctr.metadata.grpc;

import static dev.jctr.metadata.store.StoreFixtures.container;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.FieldMask;
import com.google.protobuf.Message;
import dev.jctr.api.events.EventPublisher;
import dev.jctr.api.events.Topics;
import dev.jctr.api.proto.containerd.events.ContainerCreate;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc.ContainersBlockingStub;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.DeleteContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.GetContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.UpdateContainerRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.CreateRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.DeleteRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.Lease;
import dev.jctr.api.proto.containerd.services.leases.v1.LeasesGrpc;
import dev.jctr.api.proto.containerd.services.leases.v1.ListRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.CreateNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.DeleteNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.GetNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.Namespace;
import dev.jctr.api.proto.containerd.services.namespaces.v1.NamespacesGrpc;
import dev.jctr.api.proto.containerd.services.namespaces.v1.UpdateNamespaceRequest;
import dev.jctr.metadata.store.ContainerStore;
import dev.jctr.metadata.store.LeaseStore;
import dev.jctr.metadata.store.MetadataDb;
import dev.jctr.metadata.store.NamespaceStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetadataServicesTest {

  @TempDir Path dir;
  private MetadataDb db;
  private ContainerStore containerStore;
  private InProcessServer server;
  /** Each event, with whether its object was already readable when it was published. */
  private final List<String> events = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    db = MetadataDb.open(dir);
    containerStore = new ContainerStore(db);
    NamespaceStore namespaceStore = new NamespaceStore(db);
    EventPublisher publisher = (namespace, topic, event) -> {
      events.add(namespace + " " + topic + " " + committed(namespaceStore, namespace, topic, event));
    };
    server = new InProcessServer(
        new NamespacesService(namespaceStore, publisher),
        new ContainersService(containerStore, publisher),
        new LeasesService(new LeaseStore(db)));
  }

  @AfterEach
  void stop() {
    server.close();
    db.close();
  }

  @Test
  void containersInOneNamespaceAreInvisibleToAnother() {
    ContainersBlockingStub k8s = ContainersGrpc.newBlockingStub(server.channel("k8s.io"));
    ContainersBlockingStub moby = ContainersGrpc.newBlockingStub(server.channel("moby"));
    k8s.create(create(container("web").toBuilder().setImage("k8s-image").build()));
    moby.create(create(container("web").toBuilder().setImage("moby-image").build()));
    moby.create(create(container("only-moby")));

    assertEquals(List.of("web"), ids(k8s.list(ListContainersRequest.getDefaultInstance())
        .getContainersList()));
    assertEquals("k8s-image", k8s.get(get("web")).getContainer().getImage());
    assertCode(Status.Code.NOT_FOUND, () -> k8s.get(get("only-moby")));
    assertCode(Status.Code.NOT_FOUND, () -> k8s.delete(
        DeleteContainerRequest.newBuilder().setId("only-moby").build()));

    k8s.update(UpdateContainerRequest.newBuilder()
        .setContainer(container("web").toBuilder().putLabels("tier", "k8s"))
        .setUpdateMask(FieldMask.newBuilder().addPaths("labels.tier")).build());
    k8s.delete(DeleteContainerRequest.newBuilder().setId("web").build());

    Container mobyWeb = moby.get(get("web")).getContainer();
    assertEquals("moby-image", mobyWeb.getImage());
    assertTrue(mobyWeb.getLabelsMap().isEmpty(), "the k8s.io update did not touch moby's web");
    assertEquals(2, moby.list(ListContainersRequest.getDefaultInstance()).getContainersCount());
  }

  @Test
  void listStreamReturnsWhatListReturns() {
    ContainersBlockingStub k8s = ContainersGrpc.newBlockingStub(server.channel("k8s.io"));
    for (int i = 0; i < 25; i++) {
      k8s.create(create(container("c" + i).toBuilder().putLabels("even", "" + (i % 2 == 0)).build()));
    }
    ListContainersRequest evens = ListContainersRequest.newBuilder()
        .addFilters("labels.even==true").build();
    List<Container> streamed = new ArrayList<>();
    k8s.listStream(evens).forEachRemaining(m -> streamed.add(m.getContainer()));
    assertEquals(k8s.list(evens).getContainersList(), streamed);
    assertEquals(13, streamed.size());
  }

  @Test
  void errorsCarryContainerdStatusCodes() {
    ContainersBlockingStub k8s = ContainersGrpc.newBlockingStub(server.channel("k8s.io"));
    k8s.create(create(container("dup")));
    assertCode(Status.Code.ALREADY_EXISTS, () -> k8s.create(create(container("dup"))));
    assertCode(Status.Code.INVALID_ARGUMENT, () -> k8s.create(create(container("a/../b"))));
    assertCode(Status.Code.INVALID_ARGUMENT, () -> k8s.list(ListContainersRequest.newBuilder()
        .addFilters("labels.==").build()));
    assertCode(Status.Code.FAILED_PRECONDITION, () -> ContainersGrpc.newBlockingStub(
        server.channel(null)).list(ListContainersRequest.getDefaultInstance()));
  }

  @Test
  void leasesInOneNamespaceAreInvisibleToAnother() {
    var k8s = LeasesGrpc.newBlockingStub(server.channel("k8s.io"));
    var moby = LeasesGrpc.newBlockingStub(server.channel("moby"));
    k8s.create(CreateRequest.newBuilder().setId("pull").putLabels("a", "b").build());
    moby.create(CreateRequest.newBuilder().setId("pull").build());

    assertCode(Status.Code.ALREADY_EXISTS,
        () -> moby.create(CreateRequest.newBuilder().setId("pull").build()));
    moby.delete(DeleteRequest.newBuilder().setId("pull").build());
    assertCode(Status.Code.NOT_FOUND, () -> moby.delete(DeleteRequest.newBuilder().setId("pull").build()));
    List<Lease> left = k8s.list(ListRequest.getDefaultInstance()).getLeasesList();
    assertEquals(1, left.size());
    assertEquals(Map.of("a", "b"), left.get(0).getLabelsMap());
  }

  @Test
  void namespaceDeleteIsRefusedWhileItHoldsContainers() {
    var namespaces = NamespacesGrpc.newBlockingStub(server.channel(null));
    ContainersGrpc.newBlockingStub(server.channel("k8s.io")).create(create(container("c")));
    assertCode(Status.Code.FAILED_PRECONDITION,
        () -> namespaces.delete(DeleteNamespaceRequest.newBuilder().setName("k8s.io").build()));
    assertEquals("k8s.io", namespaces.get(GetNamespaceRequest.newBuilder().setName("k8s.io")
        .build()).getNamespace().getName());
  }

  @Test
  void eventsArePublishedAfterTheirChangeCommitted() {
    var namespaces = NamespacesGrpc.newBlockingStub(server.channel(null));
    namespaces.create(CreateNamespaceRequest.newBuilder()
        .setNamespace(Namespace.newBuilder().setName("moby")).build());
    namespaces.update(UpdateNamespaceRequest.newBuilder()
        .setNamespace(Namespace.newBuilder().setName("moby").putLabels("x", "1")).build());
    ContainersBlockingStub moby = ContainersGrpc.newBlockingStub(server.channel("moby"));
    moby.create(create(container("c")));
    moby.delete(DeleteContainerRequest.newBuilder().setId("c").build());
    namespaces.delete(DeleteNamespaceRequest.newBuilder().setName("moby").build());
    moby.create(create(container("dup")));
    assertCode(Status.Code.ALREADY_EXISTS, () -> moby.create(create(container("dup"))));

    assertEquals(List.of(
        "moby " + Topics.NAMESPACE_CREATE + " committed",
        "moby " + Topics.NAMESPACE_UPDATE + " committed",
        "moby " + Topics.CONTAINER_CREATE + " committed",
        "moby " + Topics.CONTAINER_DELETE + " committed",
        "moby " + Topics.NAMESPACE_DELETE + " committed",
        "moby " + Topics.CONTAINER_CREATE + " committed"), events,
        "one event per committed change, none for the refused create");
  }

  /** Reads the store from inside the publisher: the change must already be visible. */
  private String committed(NamespaceStore namespaces, String namespace, String topic,
      Message event) {
    boolean visible = switch (topic) {
      case Topics.CONTAINER_CREATE -> exists(() -> containerStore.get(namespace,
          ((ContainerCreate) event).getId()));
      case Topics.CONTAINER_DELETE, Topics.NAMESPACE_DELETE -> true;
      default -> exists(() -> namespaces.get(namespace));
    };
    return visible ? "committed" : "not yet committed";
  }

  private static boolean exists(Runnable read) {
    try {
      read.run();
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static CreateContainerRequest create(Container container) {
    return CreateContainerRequest.newBuilder().setContainer(container).build();
  }

  private static GetContainerRequest get(String id) {
    return GetContainerRequest.newBuilder().setId(id).build();
  }

  private static List<String> ids(List<Container> containers) {
    return containers.stream().map(Container::getId).toList();
  }

  private static void assertCode(Status.Code code, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
  }
}
