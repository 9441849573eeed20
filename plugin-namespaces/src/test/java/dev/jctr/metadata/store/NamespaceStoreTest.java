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
  void deletingANamespaceWithALeaseIsRefused() {
    new LeaseStore(db).create("moby", "l1", Map.of());
    assertThrows(FailedPreconditionException.class, () -> namespaces.delete("moby"));
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
