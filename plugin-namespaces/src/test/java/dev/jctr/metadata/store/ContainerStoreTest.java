package dev.jctr.metadata.store;

import static dev.jctr.metadata.store.StoreFixtures.container;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerStoreTest {

  @TempDir Path dir;
  private MetadataDb db;
  private ContainerStore containers;

  @BeforeEach
  void open() throws Exception {
    db = MetadataDb.open(dir);
    containers = new ContainerStore(db);
  }

  @AfterEach
  void close() {
    db.close();
  }

  @Test
  void createStampsTimesAndGetReturnsIt() {
    Container created = containers.create("k8s.io", container("web"));
    assertTrue(created.hasCreatedAt());
    assertEquals(created.getCreatedAt(), created.getUpdatedAt());
    assertEquals(created, containers.get("k8s.io", "web"));
  }

  @Test
  void theSameIdInTwoNamespacesIsTwoContainers() {
    containers.create("k8s.io", container("web").toBuilder().setImage("a").build());
    containers.create("moby", container("web").toBuilder().setImage("b").build());
    assertEquals("a", containers.get("k8s.io", "web").getImage());
    assertEquals("b", containers.get("moby", "web").getImage());

    containers.delete("moby", "web");
    assertEquals("a", containers.get("k8s.io", "web").getImage());
    assertThrows(NotFoundException.class, () -> containers.get("moby", "web"));
    assertEquals(List.of("web"), ids(containers.list("k8s.io", Filter.always())));
    assertTrue(containers.list("moby", Filter.always()).isEmpty());
  }

  @Test
  void creatingAnExistingIdIsAlreadyExists() {
    containers.create("default", container("c1"));
    assertThrows(AlreadyExistsException.class, () -> containers.create("default", container("c1")));
  }

  @Test
  void missingContainersAreNotFound() {
    assertThrows(NotFoundException.class, () -> containers.get("default", "nope"));
    assertThrows(NotFoundException.class, () -> containers.delete("default", "nope"));
    assertThrows(NotFoundException.class,
        () -> containers.update("default", container("nope"), List.of("labels")));
  }

  @Test
  void invalidInputIsRejectedAndWritesNothing() {
    assertThrows(InvalidArgumentException.class, () -> containers.create("default", container("../x")));
    assertThrows(InvalidArgumentException.class, () -> containers.create("bad ns", container("x")));
    assertThrows(InvalidArgumentException.class, () -> containers.create("default",
        container("x").toBuilder().putLabels("k", "v".repeat(4096)).build()));
    assertThrows(InvalidArgumentException.class, () -> containers.create("default",
        container("x").toBuilder().clearRuntime().build()));
    assertThrows(InvalidArgumentException.class, () -> containers.create("default",
        container("x").toBuilder().clearSpec().build()));
    assertTrue(containers.list("default", Filter.always()).isEmpty());
    assertTrue(new NamespaceStore(db).list().isEmpty(), "no namespace was created either");
  }

  @Test
  void listFiltersByIdImageLabelsAndRuntime() {
    containers.create("default", container("a").toBuilder().putLabels("app.tier", "web").build());
    containers.create("default", container("b").toBuilder().setImage("docker.io/library/redis:7")
        .putLabels("app.tier", "db").build());
    containers.create("default", container("c"));

    assertEquals(List.of("a"), ids(containers.list("default", Filter.parse("id==a"))));
    assertEquals(List.of("a"),
        ids(containers.list("default", Filter.parse("labels.\"app.tier\"==web"))));
    assertEquals(List.of("b"), ids(containers.list("default", Filter.parse("image~=redis"))));
    assertEquals(List.of("a", "b"),
        ids(containers.list("default", Filter.parseAny(List.of("id==a", "id==b")))));
    assertEquals(List.of("a", "b", "c"),
        ids(containers.list("default", Filter.parse("runtime.name==io.containerd.runc.v2"))));
    assertEquals(List.of(), ids(containers.list("default", Filter.parse("id==a,image~=redis"))));
  }

  @Test
  void updateWithMaskChangesOnlyThosePaths() {
    containers.create("default", container("a").toBuilder().putLabels("keep", "1")
        .putLabels("drop", "2").build());
    Container update = container("a").toBuilder().setImage("ignored").putLabels("new", "3").build();

    Container updated = containers.update("default", update,
        List.of("labels.new", "labels.drop"));

    assertEquals("docker.io/library/busybox:latest", updated.getImage());
    assertEquals(java.util.Map.of("keep", "1", "new", "3"), updated.getLabelsMap());
    assertEquals(updated, containers.get("default", "a"));
  }

  @Test
  void updateWithoutMaskReplacesMutableFieldsButNotRuntime() {
    Container created = containers.create("default", container("a"));
    Container updated = containers.update("default",
        container("a").toBuilder().setImage("other").putLabels("x", "y").build(), List.of());
    assertEquals("other", updated.getImage());
    assertEquals(created.getCreatedAt(), updated.getCreatedAt());

    Container otherRuntime = container("a").toBuilder()
        .setRuntime(Container.Runtime.newBuilder().setName("io.containerd.jctr.v2")).build();
    assertThrows(InvalidArgumentException.class,
        () -> containers.update("default", otherRuntime, List.of()));
    assertThrows(InvalidArgumentException.class,
        () -> containers.update("default", container("a"), List.of("runtime")));
    assertEquals("other", containers.get("default", "a").getImage());
  }

  @Test
  void deleteRemovesOnlyThatContainer() {
    containers.create("default", container("a"));
    containers.create("default", container("b"));
    containers.delete("default", "a");
    assertEquals(List.of("b"), ids(containers.list("default", Filter.always())));
    assertFalse(containers.list("default", Filter.always()).isEmpty());
  }

  private static List<String> ids(List<Container> list) {
    return list.stream().map(Container::getId).toList();
  }
}
