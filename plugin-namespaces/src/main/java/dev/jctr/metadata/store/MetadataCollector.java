package dev.jctr.metadata.store;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.content.v1.Info;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.services.leases.v1.Lease;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The metadata half of garbage collection, containerd's model: in one write transaction, mark
 * everything the roots of each namespace reach and delete the records of the rest. Roots are
 * images, containers, unexpired leases and anything labelled {@code containerd.io/gc.root};
 * edges are an image's target, a snapshot's parent and the {@code containerd.io/gc.ref.*}
 * labels. Expired leases ({@code containerd.io/gc.expire} in the past) are deleted. What the
 * backends hold is cleaned afterwards, from what is left here.
 */
public final class MetadataCollector {

  private final MetadataDb db;

  public MetadataCollector(MetadataDb db) {
    this.db = db;
  }

  /** A snapshot record the sweep deleted. */
  public record RemovedSnapshot(String namespace, String snapshotter, String key) {}

  /** What one sweep deleted. */
  public record Sweep(int leases, List<String> content, List<RemovedSnapshot> snapshots) {}

  public Sweep sweep(Instant now) {
    return db.write(tx -> {
      int leases = 0;
      List<String> content = new ArrayList<>();
      List<RemovedSnapshot> snapshots = new ArrayList<>();
      for (var entry : tx.scan(Keys.namespaces())) {
        String namespace = Keys.last(entry.key());
        leases += new Marking(tx, namespace, now).sweep(content, snapshots);
      }
      return new Sweep(leases, content, snapshots);
    });
  }

  /** The marking of one namespace: references never cross namespaces. */
  private static final class Marking {
    private final MetadataDb.Tx tx;
    private final String namespace;
    private final Instant now;
    private final Map<String, Info> content = new HashMap<>();
    /** snapshotter \0 key -> the record. */
    private final Map<String, SnapshotStore.Ref> snapshots = new HashMap<>();
    private final Set<String> liveContent = new HashSet<>();
    private final Set<String> liveSnapshots = new HashSet<>();
    /** Nodes whose references are still to follow: "c" digest or "s" snapshotter \0 key. */
    private final Deque<String> gray = new ArrayDeque<>();
    private final Set<String> followed = new HashSet<>();

    Marking(MetadataDb.Tx tx, String namespace, Instant now) {
      this.tx = tx;
      this.namespace = namespace;
      this.now = now;
      for (var entry : tx.scan(Keys.blobs(namespace))) {
        content.put(Keys.last(entry.key()), parse(entry.value(), Info.parser(), "content"));
      }
      for (var entry : tx.scan(Keys.allSnapshots(namespace))) {
        String[] parts = Keys.components(entry.key()); // ns, snapshotter, key
        snapshots.put(parts[1] + '\0' + parts[2], SnapshotStore.Ref.decode(entry.value()));
      }
    }

    /** Marks from the roots, deletes what stayed unmarked; returns the leases expired. */
    int sweep(List<String> removedContent, List<RemovedSnapshot> removedSnapshots) {
      int expired = markLeases();
      for (var entry : tx.scan(Keys.images(namespace))) {
        Image image = parse(entry.value(), Image.parser(), "image");
        markContent(image.getTarget().getDigest(), false);
        markLabels(image.getLabelsMap());
      }
      for (var entry : tx.scan(Keys.containers(namespace))) {
        Container container = parse(entry.value(), Container.parser(), "container");
        if (!container.getSnapshotKey().isEmpty()) {
          markSnapshot(container.getSnapshotter(), container.getSnapshotKey(), false);
        }
        markLabels(container.getLabelsMap());
      }
      content.forEach((digest, info) -> {
        if (info.getLabelsMap().containsKey(GcLabels.ROOT)) {
          markContent(digest, false);
        }
      });
      snapshots.forEach((node, ref) -> {
        if (ref.info().getLabelsMap().containsKey(GcLabels.ROOT)) {
          int split = node.indexOf('\0');
          markSnapshot(node.substring(0, split), node.substring(split + 1), false);
        }
      });
      follow();

      for (String digest : content.keySet()) {
        if (!liveContent.contains(digest)) {
          tx.delete(Keys.blob(namespace, digest));
          tx.delete(Keys.blobHolder(digest, namespace));
          removedContent.add(digest);
        }
      }
      for (String node : snapshots.keySet()) {
        if (!liveSnapshots.contains(node)) {
          int split = node.indexOf('\0');
          String snapshotter = node.substring(0, split);
          String key = node.substring(split + 1);
          tx.delete(Keys.snapshot(namespace, snapshotter, key));
          removedSnapshots.add(new RemovedSnapshot(namespace, snapshotter, key));
        }
      }
      return expired;
    }

    private int markLeases() {
      int expired = 0;
      for (var entry : tx.scan(Keys.leases(namespace))) {
        Lease lease = parse(entry.value(), Lease.parser(), "lease");
        if (GcLabels.expired(lease.getLabelsMap(), now)) {
          tx.delete(entry.key());
          tx.deletePrefix(Keys.leaseResources(namespace, lease.getId()));
          expired++;
          continue;
        }
        boolean flat = lease.getLabelsMap().containsKey(GcLabels.FLAT);
        for (var resource : tx.scan(Keys.leaseResources(namespace, lease.getId()))) {
          String[] parts = Keys.components(resource.key()); // ns, lease, type, id
          String type = parts[2];
          if (type.equals("content")) {
            markContent(parts[3], flat);
          } else if (type.startsWith("snapshots/")) {
            markSnapshot(type.substring("snapshots/".length()), parts[3], flat);
          }
        }
      }
      return expired;
    }

    private void markLabels(Map<String, String> labels) {
      labels.forEach((key, value) -> {
        if (GcLabels.isContentRef(key)) {
          markContent(value, false);
        } else {
          GcLabels.snapshotRef(key).ifPresent(snapshotter ->
              markSnapshot(snapshotter, value, false));
        }
      });
    }

    /** Marks a blob live; unless {@code flat}, its references are followed too. */
    private void markContent(String digest, boolean flat) {
      if (!content.containsKey(digest)) {
        return; // a reference to a blob this namespace does not hold
      }
      liveContent.add(digest);
      if (!flat) {
        gray.add("c" + digest);
      }
    }

    /** Marks a snapshot and its parents live; unless {@code flat}, labels are followed too. */
    private void markSnapshot(String snapshotter, String key, boolean flat) {
      String node = snapshotter + '\0' + key;
      if (!snapshots.containsKey(node)) {
        return;
      }
      boolean fresh = liveSnapshots.add(node);
      boolean follow = !flat && !followed.contains("s" + node);
      if (!fresh && !follow) {
        return;
      }
      if (follow) {
        gray.add("s" + node);
      }
      String parent = snapshots.get(node).info().getParent();
      if (!parent.isEmpty()) {
        markSnapshot(snapshotter, parent, flat);
      }
    }

    private void follow() {
      while (!gray.isEmpty()) {
        String node = gray.poll();
        if (!followed.add(node)) {
          continue;
        }
        if (node.charAt(0) == 'c') {
          markLabels(content.get(node.substring(1)).getLabelsMap());
        } else {
          markLabels(snapshots.get(node.substring(1)).info().getLabelsMap());
        }
      }
    }
  }

  private static <T> T parse(byte[] value, com.google.protobuf.Parser<T> parser, String what) {
    try {
      return parser.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt " + what + " record", e);
    }
  }
}
