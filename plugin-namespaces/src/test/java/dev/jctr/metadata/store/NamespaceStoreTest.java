package dev.jctr.metadata.store;

import static dev.jctr.metadata.store.StoreFixtures.container;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.proto.containerd.services.namespaces.v1.Namespace;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespaceStoreTest {

  @TempDir Path dir;
  private MetadataDb db;
  private NamespaceStore namespaces;

  @BeforeEach
  void open() throws Exception {
    db = MetadataDb.open(dir);
    namespaces = new NamespaceStore(db);
  }

  @AfterEach
  void close() {
    db.close();
  }

  @Test
  void createGetListDelete() {
    namespaces.create(namespace("k8s.io", Map.of("a", "1")));
    assertEquals(Map.of("a", "1"), namespaces.get("k8s.io").getLabelsMap());
    assertEquals(List.of("k8s.io"), namespaces.list().stream().map(Namespace::getName).toList());
    namespaces.delete("k8s.io");
    assertThrows(NotFoundException.class, () -> namespaces.get("k8s.io"));
  }

  @Test
  void createTwiceIsAlreadyExists() {
    namespaces.create(namespace("moby", Map.of()));
    assertThrows(AlreadyExistsException.class, () -> namespaces.create(namespace("moby", Map.of())));
  }

  @Test
  void invalidNamesAndLabelsAreInvalidArgument() {
    assertThrows(InvalidArgumentException.class, () -> namespaces.create(namespace("Bad!", Map.of())));
    assertThrows(InvalidArgumentException.class, () -> namespaces.create(namespace("", Map.of())));
    assertThrows(InvalidArgumentException.class,
        () -> namespaces.create(namespace("ok", Map.of("k".repeat(4000), "v".repeat(97)))));
    assertTrue(namespaces.list().isEmpty());
  }

  @Test
  void aContainerCreatesItsNamespaceImplicitly() {
    new ContainerStore(db).create("k8s.io", container("c"));
    assertEquals("k8s.io", namespaces.get("k8s.io").getName());
  }

  @Test
  void deletingANamespaceThatHoldsObjectsIsFailedPrecondition() {
    ContainerStore containers = new ContainerStore(db);
    containers.create("k8s.io", container("c"));
    FailedPreconditionException e = assertThrows(FailedPreconditionException.class,
        () -> namespaces.delete("k8s.io"));
    assertTrue(e.getMessage().contains("containers"), e.getMessage());
    assertEquals("k8s.io", namespaces.get("k8s.io").getName());

    containers.delete("k8s.io", "c");
    namespaces.delete("k8s.io");
    assertTrue(namespaces.list().isEmpty());
  }

  @Test
  void deletingANamespaceTakesItsLeasesWithIt() {
    LeaseStore leases = new LeaseStore(db);
    leases.create("moby", "l1", Map.of());
    leases.addResource("moby", "l1", dev.jctr.api.proto.containerd.services.leases.v1.Resource
        .newBuilder().setType("content").setId("sha256:" + "a".repeat(64)).build());
    leases.create("mobyx", "l1", Map.of());
    namespaces.delete("moby");
    assertThrows(NotFoundException.class, () -> namespaces.get("moby"));
    assertTrue(leases.list("moby", dev.jctr.api.filters.Filter.always()).isEmpty());
    assertEquals(1, leases.list("mobyx", dev.jctr.api.filters.Filter.always()).size(),
        "a namespace sharing the prefix keeps its lease");
    leases.create("moby", "l1", Map.of());
    assertTrue(leases.listResources("moby", "l1").isEmpty());
  }

  @Test
  void updateSetsAndRemovesSingleLabelsThroughTheMask() {
    namespaces.create(namespace("ns", Map.of("a", "1", "b", "2")));
    Namespace updated = namespaces.update(namespace("ns", Map.of("c", "3")),
        List.of("labels.c", "labels.a"));
    assertEquals(Map.of("b", "2", "c", "3"), updated.getLabelsMap());
    assertThrows(InvalidArgumentException.class,
        () -> namespaces.update(namespace("ns", Map.of()), List.of("name")));
    assertThrows(NotFoundException.class,
        () -> namespaces.update(namespace("absent", Map.of()), List.of()));
  }

  private static Namespace namespace(String name, Map<String, String> labels) {
    return Namespace.newBuilder().setName(name).putAllLabels(labels).build();
  }
}
