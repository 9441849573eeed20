package dev.jctr.metadata.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.FieldMask;
import dev.jctr.api.events.EventPublisher;
import dev.jctr.api.proto.containerd.services.namespaces.v1.DeleteNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.NamespacesGrpc;
import dev.jctr.api.proto.containerd.services.snapshots.v1.CommitSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.Info;
import dev.jctr.api.proto.containerd.services.snapshots.v1.Kind;
import dev.jctr.api.proto.containerd.services.snapshots.v1.ListSnapshotsRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.MountsRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.PrepareSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.RemoveSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.SnapshotsGrpc;
import dev.jctr.api.proto.containerd.services.snapshots.v1.SnapshotsGrpc.SnapshotsBlockingStub;
import dev.jctr.api.proto.containerd.services.snapshots.v1.StatSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UpdateSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UsageRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.ViewSnapshotRequest;
import dev.jctr.metadata.store.MetadataDb;
import dev.jctr.metadata.store.NamespaceStore;
import dev.jctr.metadata.store.SnapshotStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotsServiceTest {

  @TempDir Path dir;
  private MetadataDb db;
  private InProcessServer server;
  private final KeyedSnapshotter backend = new KeyedSnapshotter();
  private final List<String> events = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    db = MetadataDb.open(dir);
    EventPublisher publisher = (namespace, topic, event) -> events.add(namespace + " " + topic);
    server = new InProcessServer(
        new SnapshotsService(new SnapshotStore(db), Map.of("test", backend), publisher),
        new NamespacesService(new NamespaceStore(db), publisher));
  }

  @AfterEach
  void stop() {
    server.close();
    db.close();
  }

  private SnapshotsBlockingStub in(String namespace) {
    return SnapshotsGrpc.newBlockingStub(server.channel(namespace));
  }

  private static PrepareSnapshotRequest prepare(String key, String parent) {
    return PrepareSnapshotRequest.newBuilder().setSnapshotter("test").setKey(key)
        .setParent(parent).build();
  }

  private static CommitSnapshotRequest commit(String name, String key) {
    return CommitSnapshotRequest.newBuilder().setSnapshotter("test").setName(name).setKey(key)
        .build();
  }

  private static Status.Code code(Supplier<?> call) {
    return assertThrows(StatusRuntimeException.class, call::get).getStatus().getCode();
  }

  private static String message(Supplier<?> call) {
    return assertThrows(StatusRuntimeException.class, call::get).getStatus().getDescription();
  }

  @Test
  void theSameKeyInTwoNamespacesIsTwoSnapshotsUnderNamespaceFreeBackendKeys() {
    in("k8s.io").prepare(prepare("layer", ""));
    in("moby").prepare(prepare("layer", ""));
    in("k8s.io").commit(commit("base", "layer"));
    assertEquals(Kind.ACTIVE, in("moby").stat(StatSnapshotRequest.newBuilder()
        .setSnapshotter("test").setKey("layer").build()).getInfo().getKind());
    assertEquals(Status.Code.NOT_FOUND, code(() -> in("moby").stat(StatSnapshotRequest
        .newBuilder().setSnapshotter("test").setKey("base").build())));
    assertEquals(List.of("k8s.io/3/base", "moby/2/layer"), List.copyOf(backend.snapshots.keySet()));

    in("moby").remove(RemoveSnapshotRequest.newBuilder().setSnapshotter("test").setKey("layer")
        .build());
    assertEquals(List.of("k8s.io/3/base"), List.copyOf(backend.snapshots.keySet()));
    assertEquals(List.of("k8s.io /snapshot/prepare", "moby /snapshot/prepare",
        "k8s.io /snapshot/commit", "moby /snapshot/remove"), events);
  }

  @Test
  void parentsChildrenAndKindsFollowContainerd() {
    SnapshotsBlockingStub k8s = in("k8s.io");
    k8s.prepare(prepare("a", ""));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> k8s.prepare(prepare("b", "a"))));
    assertEquals(Status.Code.ALREADY_EXISTS, code(() -> k8s.prepare(prepare("a", ""))));
    assertEquals(Status.Code.NOT_FOUND, code(() -> k8s.prepare(prepare("b", "nope"))));
    k8s.commit(commit("base", "a"));
    k8s.prepare(prepare("child", "base"));
    k8s.view(ViewSnapshotRequest.newBuilder().setSnapshotter("test").setKey("v")
        .setParent("base").build());
    assertEquals(Status.Code.FAILED_PRECONDITION, code(() -> k8s.commit(commit("x", "v"))),
        "committing a view");
    assertTrue(message(() -> k8s.remove(RemoveSnapshotRequest.newBuilder()
        .setSnapshotter("test").setKey("base").build())).contains("has a child"));
    assertEquals(Status.Code.FAILED_PRECONDITION, code(() -> NamespacesGrpc.newBlockingStub(
        server.channel(null)).delete(DeleteNamespaceRequest.newBuilder().setName("k8s.io")
            .build())), "a namespace holding snapshots stays");
    Info child = k8s.stat(StatSnapshotRequest.newBuilder().setSnapshotter("test")
        .setKey("child").build()).getInfo();
    assertEquals("base", child.getParent());
    assertEquals("/backend/k8s.io/3/child", k8s.mounts(MountsRequest.newBuilder()
        .setSnapshotter("test").setKey("child").build()).getMounts(0).getSource());
    assertEquals("k8s.io/3/child".length(), k8s.usage(UsageRequest.newBuilder()
        .setSnapshotter("test").setKey("child").build()).getSize());
  }

  @Test
  void badInputIsRefusedAndWritesNothing() {
    SnapshotsBlockingStub k8s = in("k8s.io");
    assertTrue(message(() -> k8s.prepare(prepare("a", "").toBuilder().setSnapshotter("zfs")
        .build())).contains("snapshotter \"zfs\" (available: "));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> k8s.prepare(prepare("a", "")
        .toBuilder().setSnapshotter("").build())));
    for (String key : List.of("../escape", "a/../../b", "a/./b", "nul\0key", "")) {
      assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> k8s.prepare(prepare(key, ""))), key);
    }
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> k8s.prepare(prepare("a", "")
        .toBuilder().putLabels("big", "x".repeat(5000)).build())));
    assertEquals(0, backend.snapshots.size());
    assertTrue(!k8s.list(ListSnapshotsRequest.newBuilder().setSnapshotter("test").build())
        .hasNext(), "nothing was recorded");
  }

  @Test
  void onlySnapshotLabelsReachTheBackendAndListFiltersAndBatches() {
    SnapshotsBlockingStub k8s = in("k8s.io");
    k8s.prepare(prepare("a", "").toBuilder().putLabels("containerd.io/snapshot/x", "1")
        .putLabels("containerd.io/snapshot.ref", "sha256:abc").putLabels("team", "blue")
        .build());
    assertEquals(Map.of("containerd.io/snapshot/x", "1", "containerd.io/snapshot.ref",
        "sha256:abc"), backend.snapshots.get("k8s.io/1/a").labels());
    for (int i = 0; i < 250; i++) {
      k8s.prepare(prepare("many-" + i, ""));
    }
    List<Integer> batches = new ArrayList<>();
    k8s.list(ListSnapshotsRequest.newBuilder().setSnapshotter("test").build())
        .forEachRemaining(r -> batches.add(r.getInfoCount()));
    assertEquals(List.of(100, 100, 51), batches);
    List<String> blue = new ArrayList<>();
    k8s.list(ListSnapshotsRequest.newBuilder().setSnapshotter("test")
        .addFilters("labels.team==blue").build())
        .forEachRemaining(r -> r.getInfoList().forEach(i -> blue.add(i.getName())));
    assertEquals(List.of("a"), blue);

    Info updated = k8s.update(UpdateSnapshotRequest.newBuilder().setSnapshotter("test")
        .setInfo(Info.newBuilder().setName("a").putLabels("team", "red"))
        .setUpdateMask(FieldMask.newBuilder().addPaths("labels.team")).build()).getInfo();
    assertEquals("red", updated.getLabelsMap().get("team"));
    assertEquals("1", updated.getLabelsMap().get("containerd.io/snapshot/x"));
  }

  @Test
  void aStatUnderALeaseKeepsTheSnapshotFoundForTheLease() {
    in("k8s.io").prepare(prepare("layer", ""));
    in("k8s.io").commit(commit("base", "layer"));
    var leases = new dev.jctr.metadata.store.LeaseStore(db);
    String lease = leases.create("k8s.io", "unpack", Map.of()).getId();
    StatSnapshotRequest stat = StatSnapshotRequest.newBuilder().setSnapshotter("test")
        .setKey("base").build();
    in("k8s.io").stat(stat); // without a lease: nothing recorded
    assertEquals(List.of(), leases.listResources("k8s.io", lease));
    SnapshotsGrpc.newBlockingStub(server.channel("k8s.io", lease)).stat(stat);
    assertEquals(List.of("snapshots/test base"), leases.listResources("k8s.io", lease).stream()
        .map(r -> r.getType() + " " + r.getId()).toList());
  }
}
