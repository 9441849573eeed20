package dev.jctr.metadata.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.content.BlobInfo;
import dev.jctr.api.content.ContentStore;
import dev.jctr.api.content.ContentWriter;
import dev.jctr.api.content.Digests;
import dev.jctr.api.content.IngestStatus;
import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.services.leases.v1.Resource;
import dev.jctr.api.proto.containerd.types.Descriptor;
import dev.jctr.content.local.LocalContentStore;
import dev.jctr.metadata.grpc.KeyedSnapshotter;
import dev.jctr.metadata.plugin.MetadataPlugin;
import dev.jctr.metadata.plugin.Snapshotters;
import dev.jctr.metadata.store.StoreFixtures;
import dev.jctr.metadata.transfer.Blobs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector over a real metadata database and content store: what roots reach stays, the
 * rest goes from the records and from the backends.
 */
class GarbageCollectorTest {

  private static final String NS = "k8s.io";
  private static final String SN = "keyed";

  @TempDir Path dir;
  private MetadataPlugin metadata;
  private LocalContentStore store;
  private KeyedSnapshotter backend;
  private GarbageCollector collector;

  @BeforeEach
  void start() throws Exception {
    metadata = new MetadataPlugin(new DaemonEnvironment() {
      @Override
      public Path root() {
        return dir.resolve("root");
      }

      @Override
      public Path state() {
        return dir.resolve("state");
      }

      @Override
      public Path grpcAddress() {
        return dir.resolve("sock");
      }

      @Override
      public Path ttrpcAddress() {
        return dir.resolve("ttrpc");
      }
    });
    store = new LocalContentStore(dir.resolve("content"));
    backend = new KeyedSnapshotter();
    collector = new GarbageCollector(metadata, store, new Snapshotters(Map.of(SN, backend)));
    collector.collectNow(); // the start-up run, out of the way
  }

  @AfterEach
  void stop() {
    collector.deactivate();
    metadata.deactivate();
  }

  private String blob(String namespace, String text, Map<String, String> labels)
      throws Exception {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    String digest = Digests.of(bytes);
    if (store.info(digest).isEmpty()) {
      try (ContentWriter writer = store.writer("w-" + text, bytes.length, digest)) {
        writer.write(ByteBuffer.wrap(bytes));
        writer.commit(bytes.length, digest);
      }
    }
    metadata.content().add(namespace, digest, bytes.length, labels);
    return digest;
  }

  private void committed(String name, String parent, Map<String, String> labels) {
    metadata.snapshots().create(NS, SN, backend, false, "tmp-" + name, parent, Map.of());
    metadata.snapshots().commit(NS, SN, backend, name, "tmp-" + name, labels);
  }

  private Set<String> content(String namespace) {
    Set<String> digests = new TreeSet<>();
    metadata.content().list(namespace, Filter.always()).forEach(i -> digests.add(i.getDigest()));
    return digests;
  }

  private Set<String> snapshots() {
    Set<String> keys = new TreeSet<>();
    metadata.snapshots().list(NS, SN, Filter.always()).forEach(i -> keys.add(i.getName()));
    return keys;
  }

  @Test
  void keepsWhatRootsReachAndRemovesTheRestFromRecordsAndBackends() throws Exception {
    committed("chain-1", "", Map.of());
    committed("chain-2", "chain-1", Map.of());
    committed("stray", "", Map.of());
    metadata.snapshots().create(NS, SN, backend, false, "rootfs", "chain-2", Map.of());
    String layer = blob(NS, "layer", Map.of());
    String config = blob(NS, "config",
        Map.of("containerd.io/gc.ref.snapshot." + SN, "chain-2"));
    String manifest = blob(NS, "manifest", Map.of("containerd.io/gc.ref.content.config", config,
        "containerd.io/gc.ref.content.l.0", layer));
    String loose = blob(NS, "loose", Map.of());
    String pinned = blob(NS, "pinned", Map.of("containerd.io/gc.root", "yes"));
    String leased = blob(NS, "leased", Map.of());
    String expired = blob(NS, "expired", Map.of());
    String elsewhere = blob("moby", "loose", Map.of("containerd.io/gc.root", "t")); // same bytes
    metadata.images().create(NS, Image.newBuilder().setName("img").setTarget(Descriptor
        .newBuilder().setDigest(manifest).setMediaType("application/vnd.oci.image.manifest.v1+json")
        .setSize(8)).build());
    metadata.containers().create(NS, StoreFixtures.container("c1").toBuilder()
        .setSnapshotter(SN).setSnapshotKey("rootfs").build());
    metadata.leases().create(NS, "keep", Map.of());
    metadata.leases().addResource(NS, "keep", Resource.newBuilder().setType("content")
        .setId(leased).build());
    metadata.leases().create(NS, "old", Map.of("containerd.io/gc.expire",
        Instant.now().minusSeconds(60).toString()));
    metadata.leases().addResource(NS, "old", Resource.newBuilder().setType("content")
        .setId(expired).build());
    backend.prepare("no-record", "", Map.of()); // what a crash between backend and record leaves

    GarbageCollector.Report report = collector.collectNow();

    assertEquals(new TreeSet<>(Set.of(layer, config, manifest, pinned, leased)), content(NS));
    assertEquals(Set.of(elsewhere), content("moby"));
    assertEquals(new TreeSet<>(Set.of("chain-1", "chain-2", "rootfs")), snapshots());
    assertEquals(1, metadata.leases().list(NS, Filter.always()).size(), "the expired one went");
    assertTrue(store.info(loose).isPresent(), "moby still holds the same bytes");
    assertFalse(store.info(expired).isPresent());
    assertEquals(Set.of("no-record", "stray"), removedFromBackend(report));
    assertEquals(1, report.leasesExpired());
    assertEquals(2, report.contentRecords());
    assertEquals(1, report.snapshotRecords());
    assertEquals(1, report.blobsDeleted());
    assertEquals(2, report.backendSnapshotsDeleted());
    assertEquals(3, backend.snapshots.size(), "chain-1, chain-2, rootfs and nothing else: "
        + backend.snapshots.keySet());

    // deleting the image and the container triggers a run by itself, shortly after
    metadata.images().delete(NS, "img", Optional.empty());
    metadata.containers().delete(NS, "c1");
    // records first, then backend snapshots, then blobs: wait for the last step
    waitFor(() -> content(NS).equals(new TreeSet<>(Set.of(pinned, leased)))
        && snapshots().isEmpty() && backend.snapshots.isEmpty()
        && !exists(manifest) && !exists(layer));
    assertTrue(exists(pinned) && exists(leased));
  }

  @Test
  void aBlobCollectedWhileATransferSharesItIsWrittenFromTheBytesAtHand() throws Exception {
    byte[] bytes = "left by a refused import".getBytes(StandardCharsets.UTF_8);
    String digest = Digests.of(bytes);
    try (ContentWriter writer = store.writer("left", bytes.length, digest)) {
      writer.write(ByteBuffer.wrap(bytes));
      writer.commit(bytes.length, digest); // in the store, held by no namespace
    }
    // the transfer sees the blob, then a collection takes it before the transfer records it
    ContentStore racing = new ContentStore() {
      private boolean collected;

      @Override
      public Optional<BlobInfo> info(String d) {
        Optional<BlobInfo> seen = store.info(d);
        if (!collected) {
          collected = true;
          try {
            collector.collectNow();
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
        return seen;
      }

      @Override
      public ContentWriter writer(String ref, long total, String expected)
          throws java.io.IOException {
        return store.writer(ref, total, expected);
      }

      @Override
      public java.nio.channels.SeekableByteChannel open(String d) throws java.io.IOException {
        return store.open(d);
      }

      @Override
      public boolean delete(String d) throws java.io.IOException {
        return store.delete(d);
      }

      @Override
      public void walk(java.util.function.Consumer<BlobInfo> visitor)
          throws java.io.IOException {
        store.walk(visitor);
      }

      @Override
      public Optional<IngestStatus> status(String ref) throws java.io.IOException {
        return store.status(ref);
      }

      @Override
      public java.util.List<IngestStatus> statuses() throws java.io.IOException {
        return store.statuses();
      }

      @Override
      public void abort(String ref) throws java.io.IOException {
        store.abort(ref);
      }
    };
    String stored = new Blobs(racing, metadata.content()).store(NS, "", "import-1",
        new java.io.ByteArrayInputStream(bytes), bytes.length, digest, Map.of());
    assertEquals(digest, stored);
    assertTrue(store.info(digest).isPresent(), "written again");
    assertTrue(content(NS).contains(digest), "and recorded in the namespace");
  }

  @Test
  void scheduledRunsTakeAtMostTwoPercentOfTheTime() {
    Duration delay = GarbageCollector.DELAY;
    long ms = 1_000_000L;
    // no run yet, or a short one long ago: the usual delay
    assertEquals(100, GarbageCollector.delayMillis(delay, 0, 0, 5_000 * ms));
    assertEquals(100, GarbageCollector.delayMillis(delay, 0, 1 * ms, 5_000 * ms));
    // a run of 20 ms that began 10 ms ago: the next begins 1 s after it
    assertEquals(990, GarbageCollector.delayMillis(delay, 1_000 * ms, 20 * ms, 1_010 * ms));
    // half of that pause already over
    assertEquals(490, GarbageCollector.delayMillis(delay, 1_000 * ms, 20 * ms, 1_510 * ms));
    // a run of 500 ms: at most two seconds' pause
    assertEquals(2_000, GarbageCollector.delayMillis(delay, 1_000 * ms, 500 * ms, 1_500 * ms));
  }

  @Test
  void aGcFlatLeaseKeepsItsResourcesButNotWhatTheyReference() throws Exception {
    String layer = blob(NS, "layer", Map.of());
    String manifest = blob(NS, "manifest", Map.of("containerd.io/gc.ref.content.l.0", layer));
    metadata.leases().create(NS, "flat", Map.of("containerd.io/gc.flat", "true"));
    metadata.leases().addResource(NS, "flat", Resource.newBuilder().setType("content")
        .setId(manifest).build());
    collector.collectNow();
    assertEquals(Set.of(manifest), content(NS));
  }

  @Test
  void aLeasedSnapshotKeepsItsParents() throws Exception {
    committed("base", "", Map.of());
    committed("mid", "base", Map.of());
    committed("other", "", Map.of());
    metadata.leases().create(NS, "l", Map.of());
    metadata.leases().addResource(NS, "l", Resource.newBuilder().setType("snapshots/" + SN)
        .setId("mid").build());
    collector.collectNow();
    assertEquals(new TreeSet<>(Set.of("base", "mid")), snapshots());
    metadata.leases().delete(NS, "l");
    waitFor(() -> snapshots().isEmpty() && backend.snapshots.isEmpty());
  }

  private boolean exists(String digest) {
    return store.info(digest).isPresent();
  }

  private Set<String> removedFromBackend(GarbageCollector.Report report) {
    Set<String> left = new TreeSet<>();
    for (String key : backend.snapshots.keySet()) {
      left.add(key.substring(key.lastIndexOf('/') + 1));
    }
    Set<String> removed = new TreeSet<>(Set.of("no-record", "stray", "chain-1", "chain-2",
        "rootfs"));
    removed.removeAll(left);
    return removed;
  }

  private static void waitFor(java.util.function.BooleanSupplier condition) throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not collected within 5 s");
      }
      Thread.sleep(20);
    }
  }
}
