package dev.jctr.metadata.store;

import dev.jctr.api.content.Digests;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.filters.Fields;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.identifiers.Identifiers;
import dev.jctr.api.identifiers.Labels;
import dev.jctr.api.proto.containerd.services.content.v1.Info;
import dev.jctr.api.content.ContentStore;
import dev.jctr.api.content.IngestStatus;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which namespaces see which blobs, with each namespace's labels for them. Blobs are shared on
 * disk; a namespace sees one only once it wrote (or committed) it, and deleting it there leaves
 * it to the others.
 */
public final class ContentMetadata {

  /** Ingests untouched this long are abandoned: containerd expires unleased ones likewise. */
  static final Duration INGEST_EXPIRY = Duration.ofHours(24);

  private final MetadataDb db;
  /**
   * Shared from a blob's commit into the store until it is recorded here; exclusive while the
   * collector looks for blobs nobody holds, so it never takes one that is about to be held.
   */
  private final ReadWriteLock blobLock = new ReentrantReadWriteLock();

  public ContentMetadata(MetadataDb db) {
    this.db = db;
  }

  /** Hold this from committing a blob into the store until {@link #add} recorded it. */
  public Lock commitLock() {
    return blobLock.readLock();
  }

  /**
   * Deletes from {@code store} every blob no namespace holds, and ingests untouched for
   * {@link #INGEST_EXPIRY}.
   *
   * @return the digests deleted
   */
  public List<String> sweepBlobs(ContentStore store, Instant now) throws IOException {
    List<String> deleted = new ArrayList<>();
    blobLock.writeLock().lock();
    try {
      Set<String> held = db.read(tx -> {
        Set<String> digests = new HashSet<>();
        for (var entry : tx.scan(Keys.allBlobHolders())) {
          digests.add(Keys.components(entry.key())[0]);
        }
        return digests;
      });
      List<String> unheld = new ArrayList<>();
      store.walk(blob -> {
        if (!held.contains(blob.digest())) {
          unheld.add(blob.digest());
        }
      });
      for (String digest : unheld) {
        if (store.delete(digest)) {
          deleted.add(digest);
        }
      }
    } finally {
      blobLock.writeLock().unlock();
    }
    for (IngestStatus ingest : store.statuses()) {
      if (ingest.updatedAt().plus(INGEST_EXPIRY).isBefore(now)) {
        try {
          store.abort(ingest.ref());
        } catch (NotFoundException e) {
          // its writer finished or gave up meanwhile
        }
      }
    }
    return deleted;
  }

  public Optional<Info> get(String namespace, String digest) {
    Identifiers.validate("namespace", namespace);
    Digests.validate(digest);
    return db.read(tx -> tx.get(Keys.blob(namespace, digest)).map(ContentMetadata::parse));
  }

  /**
   * Adds {@code digest} to {@code lease} if {@code namespace} holds it; in one write, so the
   * collector cannot take it in between.
   *
   * @return whether the namespace holds it
   */
  public boolean leaseIfPresent(String namespace, String digest, String lease) {
    Identifiers.validate("namespace", namespace);
    return db.write(tx -> {
      if (tx.get(Keys.blob(namespace, digest)).isEmpty()) {
        return false;
      }
      LeaseStore.attach(tx, namespace, lease, "content", digest);
      return true;
    });
  }

  /** Adds a blob {@code namespace} holds to {@code lease}. */
  public void lease(String namespace, String digest, String lease) {
    if (lease.isEmpty()) {
      return;
    }
    db.write(tx -> {
      LeaseStore.attach(tx, namespace, lease, "content", digest);
      return null;
    });
  }

  public Info require(String namespace, String digest) {
    return get(namespace, digest).orElseThrow(() -> new NotFoundException("content " + digest
        + " in namespace \"" + namespace + "\""));
  }

  /**
   * Records that {@code namespace} holds {@code digest}; labels given are merged over any it
   * had.
   */
  public Info add(String namespace, String digest, long size, Map<String, String> labels) {
    return add(namespace, digest, size, labels, "");
  }

  /** As {@link #add(String, String, long, Map)}, and adds the blob to {@code lease} ("": none). */
  public Info add(String namespace, String digest, long size, Map<String, String> labels,
      String lease) {
    Identifiers.validate("namespace", namespace);
    Digests.validate(digest);
    Labels.validate("content " + digest, labels);
    return db.write(tx -> {
      NamespaceStore.ensure(tx, namespace);
      var now = Timestamps.now();
      Info info = tx.get(Keys.blob(namespace, digest)).map(ContentMetadata::parse)
          .map(existing -> existing.toBuilder().putAllLabels(labels).setUpdatedAt(now).build())
          .orElseGet(() -> Info.newBuilder().setDigest(digest).setSize(size).setCreatedAt(now)
              .setUpdatedAt(now).putAllLabels(labels).build());
      tx.put(Keys.blob(namespace, digest), info.toByteArray());
      tx.put(Keys.blobHolder(digest, namespace), new byte[0]);
      LeaseStore.attach(tx, namespace, lease, "content", digest);
      return info;
    });
  }

  /** Updates labels as a field mask says ({@code labels}, {@code labels.<key>}). */
  public Info update(String namespace, Info update, List<String> paths) {
    Identifiers.validate("namespace", namespace);
    String digest = Digests.validate(update.getDigest());
    return db.write(tx -> {
      Info current = tx.get(Keys.blob(namespace, digest)).map(ContentMetadata::parse)
          .orElseThrow(() -> new NotFoundException("content " + digest + " in namespace \""
              + namespace + "\""));
      Map<String, String> labels = new LinkedHashMap<>(current.getLabelsMap());
      if (paths.isEmpty()) {
        labels = new LinkedHashMap<>(update.getLabelsMap());
      }
      for (String path : paths) {
        if (path.equals("labels")) {
          labels = new LinkedHashMap<>(update.getLabelsMap());
        } else if (path.startsWith("labels.")) {
          String key = path.substring("labels.".length());
          String value = update.getLabelsMap().get(key);
          if (value == null) {
            labels.remove(key);
          } else {
            labels.put(key, value);
          }
        } else {
          throw new InvalidArgumentException("content " + digest + ": cannot update field \""
              + path + "\"; only labels can change");
        }
      }
      Labels.validate("content " + digest, labels);
      Info info = current.toBuilder().clearLabels().putAllLabels(labels)
          .setUpdatedAt(Timestamps.now()).build();
      tx.put(Keys.blob(namespace, digest), info.toByteArray());
      if (GcLabels.dropsReference(current.getLabelsMap(), labels)) {
        tx.leftGarbage();
      }
      return info;
    });
  }

  /**
   * Forgets {@code digest} in {@code namespace}.
   *
   * @return whether another namespace still holds it (else the blob itself may go)
   */
  public boolean delete(String namespace, String digest) {
    Identifiers.validate("namespace", namespace);
    Digests.validate(digest);
    return db.write(tx -> {
      if (!tx.delete(Keys.blob(namespace, digest))) {
        throw new NotFoundException("content " + digest + " in namespace \"" + namespace + "\"");
      }
      tx.delete(Keys.blobHolder(digest, namespace));
      tx.leftGarbage();
      return tx.any(Keys.blobHolders(digest));
    });
  }

  public List<Info> list(String namespace, Filter filter) {
    Identifiers.validate("namespace", namespace);
    return db.read(tx -> {
      List<Info> infos = new ArrayList<>();
      for (var entry : tx.scan(Keys.blobs(namespace))) {
        Info info = parse(entry.value());
        if (filter.matchesAll() || filter.matches(Fields.of(Map.of("digest", info.getDigest(),
            "size", Long.toString(info.getSize())), info.getLabelsMap()))) {
          infos.add(info);
        }
      }
      return infos;
    });
  }

  private static Info parse(byte[] value) {
    try {
      return Info.parseFrom(value);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt content record", e);
    }
  }
}
