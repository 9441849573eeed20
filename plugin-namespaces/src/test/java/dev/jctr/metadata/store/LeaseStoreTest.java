package dev.jctr.metadata.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.errors.NotImplementedException;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.proto.containerd.services.leases.v1.Lease;
import dev.jctr.api.proto.containerd.services.leases.v1.Resource;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaseStoreTest {

  @TempDir Path dir;
  private MetadataDb db;
  private LeaseStore leases;

  @BeforeEach
  void open() throws Exception {
    db = MetadataDb.open(dir);
    leases = new LeaseStore(db);
  }

  @AfterEach
  void close() {
    db.close();
  }

  @Test
  void createListFilterDelete() {
    leases.create("default", "l1", Map.of("containerd.io/gc.expire", "2026-12-01T00:00:00Z"));
    leases.create("default", "l2", Map.of());
    assertEquals(List.of("l1", "l2"), ids(leases.list("default", Filter.always())));
    assertEquals(List.of("l2"), ids(leases.list("default", Filter.parse("id==l2"))));
    assertEquals(List.of("l1"),
        ids(leases.list("default", Filter.parse("labels.\"containerd.io/gc.expire\""))));
    leases.delete("default", "l1");
    assertEquals(List.of("l2"), ids(leases.list("default", Filter.always())));
  }

  @Test
  void leasesAreNamespaced() {
    leases.create("k8s.io", "l", Map.of());
    assertTrue(leases.list("moby", Filter.always()).isEmpty());
    assertThrows(NotFoundException.class, () -> leases.delete("moby", "l"));
    assertThrows(NotFoundException.class, () -> leases.listResources("moby", "l"));
    leases.create("moby", "l", Map.of());
    assertThrows(AlreadyExistsException.class, () -> leases.create("moby", "l", Map.of()));
  }

  @Test
  void resourcesAreAddedListedRemovedAndGoWithTheLease() {
    leases.create("default", "l", Map.of());
    Resource blob = resource("content", "sha256:" + "a".repeat(64));
    Resource snapshot = resource("snapshots/overlayfs", "sha256:" + "b".repeat(64));
    leases.addResource("default", "l", blob);
    leases.addResource("default", "l", snapshot);
    leases.addResource("default", "l", blob); // idempotent
    assertEquals(2, leases.listResources("default", "l").size());

    leases.deleteResource("default", "l", blob);
    assertEquals(List.of(snapshot), leases.listResources("default", "l"));

    leases.delete("default", "l");
    leases.create("default", "l", Map.of());
    assertTrue(leases.listResources("default", "l").isEmpty(), "resources died with the lease");
  }

  @Test
  void unknownResourceTypesAndEmptyIdsAreRefused() {
    leases.create("default", "l", Map.of());
    assertThrows(NotImplementedException.class,
        () -> leases.addResource("default", "l", resource("bogus", "x")));
    assertThrows(InvalidArgumentException.class,
        () -> leases.addResource("default", "l", resource("content", "")));
    assertThrows(NotFoundException.class,
        () -> leases.addResource("default", "absent", resource("content", "x")));
    assertThrows(InvalidArgumentException.class, () -> leases.create("default", "a\0b", Map.of()));
  }

  @Test
  void anEmptyIdGetsARandomOne() {
    Lease first = leases.create("default", "", Map.of());
    Lease second = leases.create("default", "", Map.of());
    assertTrue(first.getId().matches("[0-9]+-[A-Za-z0-9_-]{4}"), first.getId());
    assertTrue(!first.getId().equals(second.getId()));
    assertEquals(2, leases.list("default", Filter.always()).size());
  }

  private static Resource resource(String type, String id) {
    return Resource.newBuilder().setType(type).setId(id).build();
  }

  private static List<String> ids(List<Lease> list) {
    return list.stream().map(Lease::getId).toList();
  }
}
