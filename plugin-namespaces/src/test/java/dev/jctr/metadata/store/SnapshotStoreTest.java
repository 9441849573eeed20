package dev.jctr.metadata.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.snapshots.SnapshotInfo;
import dev.jctr.metadata.grpc.KeyedSnapshotter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The backend makes a new snapshot outside the metadata writer; what that must not break. */
class SnapshotStoreTest {

  @TempDir Path dir;
  private MetadataDb db;
  private SnapshotStore store;

  /** A backend whose first prepare, once it made the snapshot, waits to be let go. */
  private static final class HeldSnapshotter extends KeyedSnapshotter {
    final CountDownLatch made = new CountDownLatch(1);
    final CountDownLatch letGo = new CountDownLatch(1);
    private boolean held;

    @Override
    public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
      List<Mount> mounts = super.prepare(key, parent, labels);
      boolean hold;
      synchronized (this) {
        hold = !held;
        held = true;
      }
      if (hold) {
        made.countDown();
        try {
          letGo.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return mounts;
    }
  }

  @BeforeEach
  void open() throws Exception {
    db = MetadataDb.open(dir);
    store = new SnapshotStore(db);
  }

  @AfterEach
  void close() {
    db.close();
  }

  /** Creates {@code key} on another thread; returns once the backend holds it, unrecorded. */
  private CompletableFuture<List<Mount>> createHeld(HeldSnapshotter backend, String key)
      throws InterruptedException {
    CompletableFuture<List<Mount>> creation = CompletableFuture.supplyAsync(() ->
        store.create("ns", "test", backend, false, key, "", Map.of(), ""));
    assertTrue(backend.made.await(10, TimeUnit.SECONDS), "the backend never made " + key);
    return creation;
  }

  @Test
  @Timeout(30)
  void aSnapshotBeingMadeIsNoOrphanAndIsRecordedOnceMade() throws Exception {
    HeldSnapshotter backend = new HeldSnapshotter();
    CompletableFuture<List<Mount>> creation = createHeld(backend, "app");
    // in the backend, not yet recorded: the collector must leave it alone
    assertEquals(List.of(), store.orphans("test", backend));
    backend.letGo.countDown();
    creation.get(10, TimeUnit.SECONDS);
    assertEquals(List.of(), store.orphans("test", backend));
    assertEquals(1, backend.snapshots.size());
    assertEquals("app", store.get("ns", "test", "app").info().getName());
  }

  @Test
  @Timeout(30)
  void theSecondOfTwoRacingCreationsFailsAndLeavesNothingInTheBackend() throws Exception {
    HeldSnapshotter backend = new HeldSnapshotter();
    CompletableFuture<List<Mount>> first = createHeld(backend, "app");
    // the same key again, while the first is in the backend: this one records first
    store.create("ns", "test", backend, false, "app", "", Map.of(), "");
    backend.letGo.countDown();
    CompletionException failed = org.junit.jupiter.api.Assertions.assertThrows(
        CompletionException.class, first::join);
    assertInstanceOf(AlreadyExistsException.class, failed.getCause());
    assertEquals(List.of(store.get("ns", "test", "app").backendKey()),
        List.copyOf(backend.snapshots.keySet()), "the loser's backend snapshot is removed");
  }

  @Test
  void backendKeyNumbersAreNotReusedAfterARestartAndSkipOnesLeftInTheBackend()
      throws Exception {
    KeyedSnapshotter backend = new KeyedSnapshotter();
    store.create("ns", "test", backend, false, "a", "", Map.of(), "");
    String first = store.get("ns", "test", "a").backendKey();
    assertEquals("ns/1/a", first);
    // a crash after the backend made ns/2/b and before it was recorded
    backend.snapshots.put("ns/2/b", new SnapshotInfo("ns/2/b", "",
        dev.jctr.api.snapshots.Kind.ACTIVE, Map.of(), Instant.now(), Instant.now()));
    db.close();
    db = MetadataDb.open(dir);
    store = new SnapshotStore(db);
    store.create("ns", "test", backend, false, "b", "", Map.of(), "");
    assertEquals("ns/3/b", store.get("ns", "test", "b").backendKey());
    assertEquals(List.of("ns/2/b"), store.orphans("test", backend).stream()
        .map(SnapshotInfo::name).toList());
  }
}
