package dev.jctr.metadata.store;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.filters.Fields;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.identifiers.Identifiers;
import dev.jctr.api.identifiers.Labels;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.proto.containerd.services.snapshots.v1.Info;
import dev.jctr.api.proto.containerd.services.snapshots.v1.Kind;
import dev.jctr.api.snapshots.Snapshotter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import dev.jctr.api.snapshots.SnapshotInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Snapshots per namespace, in front of the snapshotters. A namespace's key maps to a backend key
 * {@code <namespace>/<n>/<key>} ({@code n} from one sequence), so the same key in two
 * namespaces is two snapshots and a snapshotter never sees namespaces. The metadata record
 * holds what clients see (name, parent's key, kind, times, all labels); the backend gets only
 * the labels meant for it ({@code containerd.io/snapshot/...} and
 * {@code containerd.io/snapshot.ref}), as in containerd.
 *
 * <p>Commit and remove call the backend inside the metadata write transaction; create calls
 * it just before (see {@link #create}). If the backend refuses, nothing is recorded; if
 * recording fails after the backend acted, the backend's change is undone.
 */
public final class SnapshotStore {

  /** Labels a backend snapshotter receives; the rest stay in metadata. */
  static final String BACKEND_LABEL_PREFIX = "containerd.io/snapshot/";
  static final String BACKEND_REF_LABEL = "containerd.io/snapshot.ref";

  private final MetadataDb db;
  /** The last backend key number taken (see {@link #nextBackendKey}). */
  private final AtomicLong sequence;
  /** Backend keys whose snapshots are being made, not yet recorded: not orphans. */
  private final Set<String> creating = ConcurrentHashMap.newKeySet();

  public SnapshotStore(MetadataDb db) {
    this.db = db;
    this.sequence = new AtomicLong(db.read(SnapshotStore::storedSequence));
  }

  /** A snapshot as recorded: its backend key and what clients see. */
  record Ref(String backendKey, Info info) {
    byte[] encode() {
      try {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        out.writeStringNoTag(backendKey);
        out.writeByteArrayNoTag(info.toByteArray());
        out.flush();
        return bytes.toByteArray();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    static Ref decode(byte[] value) {
      try {
        CodedInputStream in = CodedInputStream.newInstance(value);
        String backendKey = in.readString();
        return new Ref(backendKey, Info.parseFrom(in.readByteArray()));
      } catch (IOException e) {
        throw new IllegalStateException("corrupt snapshot record", e);
      }
    }
  }

  /**
   * Creates an active snapshot ({@code view} false) or a view of {@code parent} ("" for none)
   * and returns its mounts.
   */
  public List<Mount> create(String namespace, String snapshotter, Snapshotter backend,
      boolean view, String key, String parent, Map<String, String> labels) {
    return create(namespace, snapshotter, backend, view, key, parent, labels, "");
  }

  /**
   * As {@link #create}, and adds the snapshot to {@code lease} ("": none).
   *
   * <p>The backend makes the snapshot before the metadata write, not inside it: its directories
   * and record (two disk flushes) would otherwise hold up every other metadata write queued
   * behind it, which under a kubelet's burst of pod starts was most of the writer's time. Until
   * the record exists the backend key is in {@link #creating}, so the collector does not take
   * the new snapshot for an orphan; a write that fails removes it from the backend again.
   */
  public List<Mount> create(String namespace, String snapshotter, Snapshotter backend,
      boolean view, String key, String parent, Map<String, String> labels, String lease) {
    validate(namespace, snapshotter, key);
    String owner = describe(namespace, snapshotter, key);
    Labels.validate(owner, labels);
    if (!parent.isEmpty()) {
      validateKey("parent", parent);
    }
    // refused early, before the backend works; checked again in the write
    String backendParent = db.read(tx -> checkCreatable(tx, namespace, snapshotter, key,
        parent, owner));
    Map<String, String> backendLabels = backendLabels(labels);
    String backendKey = null;
    List<Mount> mounts = null;
    try {
      for (int attempt = 0; mounts == null; attempt++) {
        String candidate = nextBackendKey(namespace, key);
        creating.add(candidate);
        backendKey = candidate;
        try {
          mounts = view
              ? backend.view(candidate, backendParent, backendLabels)
              : backend.prepare(candidate, backendParent, backendLabels);
        } catch (AlreadyExistsException e) {
          // a number taken before a crash, its snapshot not yet collected: the next one
          creating.remove(candidate);
          backendKey = null;
          if (attempt >= 16) {
            throw e;
          }
        }
      }
      String recorded = backendKey;
      List<Mount> result = mounts;
      try {
        db.write(tx -> {
          if (!checkCreatable(tx, namespace, snapshotter, key, parent, owner)
              .equals(backendParent)) {
            throw new FailedPreconditionException("parent " + describe(namespace, snapshotter,
                parent) + " changed while " + owner + " was being made; try again");
          }
          NamespaceStore.ensure(tx, namespace);
          LeaseStore.attach(tx, namespace, lease, "snapshots/" + snapshotter, key);
          recordSequence(tx, recorded);
          var now = Timestamps.now();
          Info info = Info.newBuilder().setName(key).setParent(parent)
              .setKind(view ? Kind.VIEW : Kind.ACTIVE).setCreatedAt(now).setUpdatedAt(now)
              .putAllLabels(labels).build();
          tx.put(Keys.snapshot(namespace, snapshotter, key), new Ref(recorded, info).encode());
          return null;
        });
      } catch (RuntimeException e) {
        undo(() -> backend.remove(recorded), e);
        throw e;
      }
      return result;
    } finally {
      if (backendKey != null) {
        creating.remove(backendKey);
      }
    }
  }

  /** Throws unless {@code key} can be made on {@code parent}; returns the parent's backend key. */
  private static String checkCreatable(MetadataDb.Tx tx, String namespace, String snapshotter,
      String key, String parent, String owner) {
    if (tx.get(Keys.snapshot(namespace, snapshotter, key)).isPresent()) {
      throw new AlreadyExistsException(owner);
    }
    if (parent.isEmpty()) {
      return "";
    }
    Ref parentRef = tx.get(Keys.snapshot(namespace, snapshotter, parent)).map(Ref::decode)
        .orElseThrow(() -> new NotFoundException("parent "
            + describe(namespace, snapshotter, parent)));
    if (parentRef.info().getKind() != Kind.COMMITTED) {
      throw new InvalidArgumentException("parent " + describe(namespace, snapshotter, parent)
          + " is not committed; commit it before building on it");
    }
    return parentRef.backendKey();
  }

  public List<Mount> mounts(String namespace, String snapshotter, Snapshotter backend,
      String key) {
    return backend.mounts(get(namespace, snapshotter, key).backendKey());
  }

  /** Commits the active snapshot {@code key} as {@code name}; {@code key} is gone after. */
  public void commit(String namespace, String snapshotter, Snapshotter backend, String name,
      String key, Map<String, String> labels) {
    commit(namespace, snapshotter, backend, name, key, labels, "");
  }

  /** As {@link #commit}, and adds the committed snapshot to {@code lease} ("": none). */
  public void commit(String namespace, String snapshotter, Snapshotter backend, String name,
      String key, Map<String, String> labels, String lease) {
    validate(namespace, snapshotter, key);
    validateKey("name", name);
    String owner = describe(namespace, snapshotter, name);
    Labels.validate(owner, labels);
    db.write(tx -> {
      Ref active = tx.get(Keys.snapshot(namespace, snapshotter, key)).map(Ref::decode)
          .orElseThrow(() -> new NotFoundException(describe(namespace, snapshotter, key)));
      if (active.info().getKind() != Kind.ACTIVE) {
        throw new FailedPreconditionException(describe(namespace, snapshotter, key) + " is a "
            + active.info().getKind().name().toLowerCase()
            + "; only active snapshots can be committed");
      }
      if (tx.get(Keys.snapshot(namespace, snapshotter, name)).isPresent()) {
        throw new AlreadyExistsException(owner);
      }
      LeaseStore.attach(tx, namespace, lease, "snapshots/" + snapshotter, name);
      String backendName = nextBackendKey(namespace, name);
      recordSequence(tx, backendName);
      backend.commit(backendName, active.backendKey(), backendLabels(labels));
      var now = Timestamps.now();
      Info info = active.info().toBuilder().setName(name).setKind(Kind.COMMITTED)
          .setUpdatedAt(now).clearLabels().putAllLabels(labels).build();
      tx.delete(Keys.snapshot(namespace, snapshotter, key));
      tx.put(Keys.snapshot(namespace, snapshotter, name), new Ref(backendName, info).encode());
      return null;
    });
  }

  /**
   * Removes a snapshot of any kind.
   *
   * @return the backend key, for the caller to remove from the backend after commit
   */
  public String remove(String namespace, String snapshotter, String key) {
    validate(namespace, snapshotter, key);
    return db.write(tx -> {
      Ref ref = tx.get(Keys.snapshot(namespace, snapshotter, key)).map(Ref::decode)
          .orElseThrow(() -> new NotFoundException(describe(namespace, snapshotter, key)));
      for (var entry : tx.scan(Keys.snapshots(namespace, snapshotter))) {
        Ref other = Ref.decode(entry.value());
        if (other.info().getParent().equals(key)) {
          throw new FailedPreconditionException("cannot remove "
              + describe(namespace, snapshotter, key) + ": it has a child, \""
              + other.info().getName() + "\"; remove that first");
        }
      }
      tx.delete(Keys.snapshot(namespace, snapshotter, key));
      tx.leftGarbage();
      return ref.backendKey();
    });
  }

  public Info stat(String namespace, String snapshotter, String key) {
    return get(namespace, snapshotter, key).info();
  }

  /**
   * Adds snapshot {@code key} to {@code lease} if it exists, in one write.
   *
   * @return whether it exists
   */
  public boolean leaseIfPresent(String namespace, String snapshotter, String key, String lease) {
    validate(namespace, snapshotter, key);
    return db.write(tx -> {
      if (tx.get(Keys.snapshot(namespace, snapshotter, key)).isEmpty()) {
        return false;
      }
      LeaseStore.attach(tx, namespace, lease, "snapshots/" + snapshotter, key);
      return true;
    });
  }

  public String backendKey(String namespace, String snapshotter, String key) {
    return get(namespace, snapshotter, key).backendKey();
  }

  /** Updates labels (the only mutable part), as a field mask says; none replaces them all. */
  public Info update(String namespace, String snapshotter, Info update, List<String> paths) {
    validate(namespace, snapshotter, update.getName());
    return db.write(tx -> {
      byte[] dbKey = Keys.snapshot(namespace, snapshotter, update.getName());
      Ref ref = tx.get(dbKey).map(Ref::decode).orElseThrow(() -> new NotFoundException(
          describe(namespace, snapshotter, update.getName())));
      Map<String, String> labels = new LinkedHashMap<>(ref.info().getLabelsMap());
      if (paths.isEmpty()) {
        labels = new LinkedHashMap<>(update.getLabelsMap());
      }
      for (String path : paths) {
        if (path.equals("labels")) {
          labels = new LinkedHashMap<>(update.getLabelsMap());
        } else if (path.startsWith("labels.")) {
          String label = path.substring("labels.".length());
          String value = update.getLabelsMap().get(label);
          if (value == null) {
            labels.remove(label);
          } else {
            labels.put(label, value);
          }
        } else {
          throw new InvalidArgumentException(describe(namespace, snapshotter, update.getName())
              + ": cannot update field \"" + path + "\"; only labels can change");
        }
      }
      Labels.validate(describe(namespace, snapshotter, update.getName()), labels);
      Info info = ref.info().toBuilder().clearLabels().putAllLabels(labels)
          .setUpdatedAt(Timestamps.now()).build();
      tx.put(dbKey, new Ref(ref.backendKey(), info).encode());
      if (GcLabels.dropsReference(ref.info().getLabelsMap(), labels)) {
        tx.leftGarbage();
      }
      return info;
    });
  }

  /** The snapshots of one snapshotter in {@code namespace} that match, ordered by key. */
  public List<Info> list(String namespace, String snapshotter, Filter filter) {
    Identifiers.validate("namespace", namespace);
    return db.read(tx -> {
      List<Info> infos = new ArrayList<>();
      for (var entry : tx.scan(Keys.snapshots(namespace, snapshotter))) {
        Info info = Ref.decode(entry.value()).info();
        if (filter.matchesAll() || filter.matches(fields(info))) {
          infos.add(info);
        }
      }
      return infos;
    });
  }

  /**
   * The snapshots {@code backend} holds that no record in any namespace points at, children
   * before their parents. Decided inside a metadata write, so that no record changes meanwhile;
   * snapshots being made (in the backend, not yet recorded) are not orphans.
   */
  public List<SnapshotInfo> orphans(String snapshotter, Snapshotter backend) {
    return db.write(tx -> {
      Set<String> recorded = new HashSet<>();
      for (var entry : tx.scan(Keys.namespaces())) {
        String namespace = Keys.last(entry.key());
        for (var snapshot : tx.scan(Keys.snapshots(namespace, snapshotter))) {
          recorded.add(Ref.decode(snapshot.value()).backendKey());
        }
      }
      Map<String, SnapshotInfo> orphans = new HashMap<>();
      backend.walk(Filter.always(), info -> {
        if (!recorded.contains(info.name()) && !creating.contains(info.name())) {
          orphans.put(info.name(), info);
        }
      });
      return leavesFirst(orphans);
    });
  }

  /** Orders snapshots so that each comes before its parent. */
  private static List<SnapshotInfo> leavesFirst(Map<String, SnapshotInfo> snapshots) {
    Map<String, Integer> depth = new HashMap<>();
    for (String name : snapshots.keySet()) {
      int d = 0;
      for (SnapshotInfo at = snapshots.get(name); at != null && !at.parent().isEmpty();
          at = snapshots.get(at.parent())) {
        d++;
      }
      depth.put(name, d);
    }
    List<SnapshotInfo> ordered = new ArrayList<>(snapshots.values());
    ordered.sort(java.util.Comparator.comparing((SnapshotInfo i) -> depth.get(i.name()))
        .reversed());
    return ordered;
  }

  Ref get(String namespace, String snapshotter, String key) {
    validate(namespace, snapshotter, key);
    return db.read(tx -> tx.get(Keys.snapshot(namespace, snapshotter, key)).map(Ref::decode))
        .orElseThrow(() -> new NotFoundException(describe(namespace, snapshotter, key)));
  }

  /**
   * A new backend key {@code <namespace>/<n>/<key>}. The numbers come from memory, started at
   * the recorded sequence; each write that records a key records its number too
   * ({@link #recordSequence}), so a number is reused only if a crash came between taking it
   * and recording it, and then only its unrecorded snapshot can hold it.
   */
  private String nextBackendKey(String namespace, String key) {
    return namespace + "/" + sequence.incrementAndGet() + "/" + key;
  }

  private static void recordSequence(MetadataDb.Tx tx, String backendKey) {
    long number = Long.parseLong(backendKey.substring(backendKey.indexOf('/') + 1,
        backendKey.indexOf('/', backendKey.indexOf('/') + 1)));
    if (storedSequence(tx) < number) {
      tx.put(Keys.SEQUENCE, Long.toString(number).getBytes(StandardCharsets.UTF_8));
    }
  }

  private static long storedSequence(MetadataDb.Tx tx) {
    return tx.get(Keys.SEQUENCE)
        .map(v -> Long.parseLong(new String(v, StandardCharsets.UTF_8))).orElse(0L);
  }

  static Map<String, String> backendLabels(Map<String, String> labels) {
    Map<String, String> forwarded = new HashMap<>();
    labels.forEach((k, v) -> {
      if (k.startsWith(BACKEND_LABEL_PREFIX) || k.equals(BACKEND_REF_LABEL)) {
        forwarded.put(k, v);
      }
    });
    return forwarded;
  }

  private static Fields fields(Info info) {
    Map<String, String> top = Map.of("name", info.getName(), "parent", info.getParent(),
        "kind", info.getKind().name().toLowerCase());
    return Fields.of(top, info.getLabelsMap());
  }

  private static void validate(String namespace, String snapshotter, String key) {
    Identifiers.validate("namespace", namespace);
    if (snapshotter == null || snapshotter.isEmpty()) {
      throw new InvalidArgumentException("snapshotter must be named (for example overlayfs)");
    }
    validateKey("key", key);
  }

  /**
   * A key is any text a client chooses, but never one that could reach outside a snapshotter's
   * space if a backend used it as a path: not empty, no NUL, no {@code .} or {@code ..} segment.
   */
  static void validateKey(String what, String key) {
    if (key == null || key.isEmpty()) {
      throw new InvalidArgumentException("snapshot " + what + " must not be empty");
    }
    if (key.indexOf('\0') >= 0) {
      throw new InvalidArgumentException("snapshot " + what + " \"" + key.replace("\0", "\\0")
          + "\" contains NUL");
    }
    for (String segment : key.split("/", -1)) {
      if (segment.equals("..") || segment.equals(".")) {
        throw new InvalidArgumentException("snapshot " + what + " \"" + key
            + "\" contains a \"" + segment + "\" path segment");
      }
    }
    if (key.length() > 4096) {
      throw new InvalidArgumentException("snapshot " + what + " is longer than 4096 bytes");
    }
  }

  private static void undo(Runnable action, RuntimeException cause) {
    try {
      action.run();
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  private static String describe(String namespace, String snapshotter, String key) {
    return "snapshot \"" + key + "\" (" + snapshotter + ") in namespace \"" + namespace + "\"";
  }
}
