package dev.jctr.metadata.grpc;

import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.snapshots.Kind;
import dev.jctr.api.snapshots.SnapshotInfo;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.api.snapshots.Usage;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A backend for the service tests that only keeps records, so that they can see exactly which
 * keys and labels the metadata layer hands a snapshotter. The real backends have their own
 * tests with real mounts.
 */
public class KeyedSnapshotter implements Snapshotter {

  public final Map<String, SnapshotInfo> snapshots = new TreeMap<>();

  @Override
  public synchronized SnapshotInfo stat(String key) {
    SnapshotInfo info = snapshots.get(key);
    if (info == null) {
      throw new NotFoundException("backend snapshot \"" + key + "\"");
    }
    return info;
  }

  @Override
  public SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths) {
    throw new UnsupportedOperationException();
  }

  @Override
  public Usage usage(String key) {
    stat(key);
    return new Usage(key.length(), 1);
  }

  @Override
  public List<Mount> mounts(String key) {
    return List.of(new Mount("bind", "/backend/" + stat(key).name(), List.of("rw", "rbind")));
  }

  @Override
  public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
    return create(key, parent, labels, Kind.ACTIVE);
  }

  @Override
  public List<Mount> view(String key, String parent, Map<String, String> labels) {
    return create(key, parent, labels, Kind.VIEW);
  }

  private synchronized List<Mount> create(String key, String parent, Map<String, String> labels,
      Kind kind) {
    if (snapshots.containsKey(key)) {
      throw new AlreadyExistsException("backend snapshot \"" + key + "\"");
    }
    snapshots.put(key, new SnapshotInfo(key, parent, kind, labels, Instant.now(), Instant.now()));
    return mounts(key);
  }

  @Override
  public synchronized void commit(String name, String key, Map<String, String> labels) {
    SnapshotInfo active = stat(key);
    if (active.kind() != Kind.ACTIVE) {
      throw new FailedPreconditionException("not active");
    }
    snapshots.remove(key);
    snapshots.put(name, new SnapshotInfo(name, active.parent(), Kind.COMMITTED, labels,
        active.created(), Instant.now()));
  }

  @Override
  public synchronized void remove(String key) {
    stat(key);
    snapshots.remove(key);
  }

  @Override
  public synchronized void walk(Filter filter, Consumer<SnapshotInfo> visitor) {
    snapshots.values().forEach(visitor);
  }

  @Override
  public void cleanup() {}

  @Override
  public void close() {}
}
