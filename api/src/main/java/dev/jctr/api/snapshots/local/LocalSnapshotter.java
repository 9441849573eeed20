package dev.jctr.api.snapshots.local;

import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.filters.Fields;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.identifiers.Labels;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.snapshots.Kind;
import dev.jctr.api.snapshots.SnapshotInfo;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.api.snapshots.Usage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The bookkeeping of a snapshotter whose snapshots are directories under its root:
 * {@code metadata/<id>} records ({@link RecordFiles}) and {@code snapshots/<id>/}, whose content
 * the driver decides. A snapshot is created in {@code snapshots/new-*}, filled by the driver,
 * and renamed to its id before its record is written, so a crash leaves at worst a directory
 * without a record, which {@link #cleanup} removes; it is never visible as a snapshot.
 *
 * <p>A driver implements {@link #populate} (fill a new snapshot's directory) and
 * {@link #mountsOf} (how to mount one), and may override {@link #layer} (the directory that
 * holds the snapshot's own files, which usage measures).
 */
public abstract class LocalSnapshotter implements Snapshotter {

  private final Path snapshots;
  private final RecordFiles records;
  private final Map<String, SnapshotRecord> byKey = new HashMap<>();
  private final Map<Long, SnapshotRecord> byId = new HashMap<>();
  private long lastId;

  /** Opens the snapshotter under {@code root}, reading its records. */
  protected LocalSnapshotter(Path root) throws IOException {
    this.snapshots = Files.createDirectories(root.resolve("snapshots"));
    this.records = new RecordFiles(root.resolve("metadata"));
    for (SnapshotRecord record : records.readAll()) {
      byKey.put(record.key(), record);
      byId.put(record.id(), record);
      lastId = Math.max(lastId, record.id());
    }
    // directories of snapshots whose records never got written still hold their ids
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(snapshots)) {
      for (Path dir : dirs) {
        parseId(dir).ifPresent(id -> lastId = Math.max(lastId, id));
      }
    }
  }

  @Override
  public synchronized SnapshotInfo stat(String key) {
    return info(find(key));
  }

  @Override
  public synchronized SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths) {
    SnapshotRecord current = find(info.name());
    Map<String, String> labels = new LinkedHashMap<>(current.labels());
    if (fieldPaths.isEmpty()) {
      labels = new LinkedHashMap<>(info.labels());
    } else {
      for (String path : fieldPaths) {
        if (path.equals("labels")) {
          labels = new LinkedHashMap<>(info.labels());
        } else if (path.startsWith("labels.")) {
          String label = path.substring("labels.".length());
          String value = info.labels().get(label);
          if (value == null) {
            labels.remove(label);
          } else {
            labels.put(label, value);
          }
        } else {
          throw new InvalidArgumentException("snapshot \"" + info.name()
              + "\": cannot update field \"" + path + "\"; only labels can change");
        }
      }
    }
    Labels.validate("snapshot \"" + info.name() + "\"", labels);
    SnapshotRecord updated = current.with(current.key(), current.kind(), labels, Instant.now(),
        current.size(), current.inodes());
    store(updated);
    return info(updated);
  }

  @Override
  public Usage usage(String key) {
    SnapshotRecord record;
    synchronized (this) {
      record = find(key);
    }
    if (record.kind() == Kind.COMMITTED) {
      return new Usage(record.size(), record.inodes());
    }
    return measure(fs(record.id()));
  }

  @Override
  public synchronized List<Mount> mounts(String key) {
    SnapshotRecord record = find(key);
    if (record.kind() == Kind.COMMITTED) {
      throw new FailedPreconditionException("snapshot \"" + key
          + "\" is committed; only active snapshots and views have mounts");
    }
    return mountsOf(record);
  }

  @Override
  public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
    return create(Kind.ACTIVE, key, parent, labels);
  }

  @Override
  public List<Mount> view(String key, String parent, Map<String, String> labels) {
    return create(Kind.VIEW, key, parent, labels);
  }

  private synchronized List<Mount> create(Kind kind, String key, String parent,
      Map<String, String> labels) {
    if (key == null || key.isEmpty()) {
      throw new InvalidArgumentException("snapshot key must not be empty");
    }
    Labels.validate("snapshot \"" + key + "\"", labels);
    if (byKey.containsKey(key)) {
      throw new AlreadyExistsException("snapshot \"" + key + "\"");
    }
    long parentId = 0;
    if (parent != null && !parent.isEmpty()) {
      SnapshotRecord parentRecord = byKey.get(parent);
      if (parentRecord == null) {
        throw new NotFoundException("parent snapshot \"" + parent + "\"");
      }
      if (parentRecord.kind() != Kind.COMMITTED) {
        throw new InvalidArgumentException("parent snapshot \"" + parent
            + "\" is not committed; commit it before building on it");
      }
      parentId = parentRecord.id();
    }
    Path staging = snapshots.resolve("new-" + UUID.randomUUID());
    long id = lastId + 1;
    Path dir = snapshots.resolve(Long.toString(id));
    try {
      Files.createDirectory(staging);
      populate(staging, kind, parentId == 0 ? null : snapshots.resolve(Long.toString(parentId)));
      Files.move(staging, dir);
      lastId = id;
      Instant now = Instant.now();
      SnapshotRecord record = new SnapshotRecord(id, key, kind, parentId, labels, now, now, 0, 0);
      store(record);
      return mountsOf(record);
    } catch (IOException e) {
      deleteQuietly(staging);
      deleteQuietly(dir);
      throw new UncheckedIOException("snapshot \"" + key + "\": " + e.getMessage(), e);
    }
  }

  @Override
  public void commit(String name, String key, Map<String, String> labels) {
    SnapshotRecord active;
    synchronized (this) {
      active = find(key);
      if (active.kind() != Kind.ACTIVE) {
        throw new FailedPreconditionException("snapshot \"" + key + "\" is a "
            + active.kind().name().toLowerCase() + "; only active snapshots can be committed");
      }
    }
    Usage usage = measure(fs(active.id())); // outside the lock: it walks the layer
    synchronized (this) {
      SnapshotRecord current = find(key);
      if (current.kind() != Kind.ACTIVE) {
        throw new FailedPreconditionException("snapshot \"" + key + "\" changed while committing");
      }
      if (byKey.containsKey(name)) {
        throw new AlreadyExistsException("snapshot \"" + name + "\"");
      }
      Labels.validate("snapshot \"" + name + "\"", labels);
      SnapshotRecord committed = current.with(name, Kind.COMMITTED, labels, Instant.now(),
          usage.size(), usage.inodes());
      byKey.remove(key);
      store(committed);
    }
  }

  @Override
  public synchronized void remove(String key) {
    SnapshotRecord record = find(key);
    for (SnapshotRecord other : byId.values()) {
      if (other.parentId() == record.id()) {
        throw new FailedPreconditionException("snapshot \"" + key + "\" has children ("
            + other.key() + "); remove them first");
      }
    }
    try {
      records.delete(record.id());
    } catch (IOException e) {
      throw new UncheckedIOException("remove snapshot \"" + key + "\": " + e.getMessage(), e);
    }
    byKey.remove(record.key());
    byId.remove(record.id());
    // the files go now; if this is interrupted, cleanup finds the directory without a record
    deleteQuietly(snapshots.resolve(Long.toString(record.id())));
  }

  @Override
  public void walk(Filter filter, Consumer<SnapshotInfo> visitor) {
    List<SnapshotInfo> matching = new ArrayList<>();
    synchronized (this) {
      for (SnapshotRecord record : byId.values()) {
        SnapshotInfo info = info(record);
        if (filter.matchesAll() || filter.matches(fields(info))) {
          matching.add(info);
        }
      }
    }
    matching.sort((a, b) -> a.name().compareTo(b.name()));
    matching.forEach(visitor);
  }

  @Override
  public void cleanup() {
    Set<Long> live;
    synchronized (this) {
      live = new HashSet<>(byId.keySet());
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(snapshots)) {
      for (Path dir : dirs) {
        Optional<Long> id = parseId(dir);
        if (id.isEmpty() || !live.contains(id.get())) {
          synchronized (this) {
            // re-checked under the lock: a snapshot may have been created meanwhile
            if (id.isPresent() && byId.containsKey(id.get())) {
              continue;
            }
            if (id.isEmpty() && !dir.getFileName().toString().startsWith("new-")) {
              continue; // not ours
            }
            if (id.isEmpty() && isRecent(dir)) {
              continue; // a create in progress
            }
          }
          deleteQuietly(dir);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cleanup of " + snapshots + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    // records are written through; nothing is held open
  }

  private List<Mount> mountsOf(SnapshotRecord record) {
    List<Path> parents = new ArrayList<>();
    for (long p = record.parentId(); p != 0; p = byId.get(p).parentId()) {
      parents.add(snapshots.resolve(Long.toString(p)));
    }
    return mountsOf(snapshots.resolve(Long.toString(record.id())), record.kind(), parents);
  }

  /**
   * Fills the directory of a new snapshot, before it becomes visible. A failure leaves nothing:
   * the directory is removed.
   *
   * @param dir the new snapshot's directory, empty
   * @param parent the parent's directory, or null for a snapshot without parent
   */
  protected abstract void populate(Path dir, Kind kind, Path parent) throws IOException;

  /**
   * How to mount an active snapshot or a view.
   *
   * @param dir the snapshot's directory
   * @param parents the directories of its parents, nearest first
   */
  protected abstract List<Mount> mountsOf(Path dir, Kind kind, List<Path> parents);

  /** The directory holding a snapshot's own files, given its directory; itself by default. */
  protected Path layer(Path dir) {
    return dir;
  }

  private Path fs(long id) {
    return layer(snapshots.resolve(Long.toString(id)));
  }

  private SnapshotRecord find(String key) {
    SnapshotRecord record = byKey.get(key);
    if (record == null) {
      throw new NotFoundException("snapshot \"" + key + "\"");
    }
    return record;
  }

  private void store(SnapshotRecord record) {
    try {
      records.write(record);
    } catch (IOException e) {
      throw new UncheckedIOException("snapshot \"" + record.key() + "\": " + e.getMessage(), e);
    }
    byKey.put(record.key(), record);
    byId.put(record.id(), record);
  }

  private SnapshotInfo info(SnapshotRecord record) {
    String parent = record.parentId() == 0 ? "" : byId.get(record.parentId()).key();
    return new SnapshotInfo(record.key(), parent, record.kind(), record.labels(),
        record.created(), record.updated());
  }

  /** Filter fields, as containerd names them: name, parent, kind, labels.&lt;key&gt;. */
  private static Fields fields(SnapshotInfo info) {
    Map<String, String> top = Map.of("name", info.name(), "parent", info.parent(),
        "kind", info.kind().name().toLowerCase());
    return Fields.of(top, info.labels());
  }

  private static Optional<Long> parseId(Path dir) {
    try {
      return Optional.of(Long.parseLong(dir.getFileName().toString()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static boolean isRecent(Path dir) {
    try {
      return Files.getLastModifiedTime(dir).toInstant()
          .isAfter(Instant.now().minusSeconds(60));
    } catch (IOException e) {
      return false;
    }
  }

  /** Bytes of regular files and symlinks, and distinct inodes, under {@code dir}. */
  public static Usage measure(Path dir) {
    long[] size = {0};
    Set<Object> inodes = new HashSet<>();
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
          count(attrs);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
          count(attrs);
          return FileVisitResult.CONTINUE;
        }

        private void count(BasicFileAttributes attrs) {
          Object key = attrs.fileKey();
          if (key == null || inodes.add(key)) {
            if (!attrs.isDirectory()) {
              size[0] += attrs.size();
            }
          }
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("usage of " + dir + ": " + e.getMessage(), e);
    }
    return new Usage(size[0], inodes.size());
  }

  /** Deletes a tree, leaving what cannot be deleted for the next cleanup. */
  protected static void deleteQuietly(Path path) {
    if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try {
      Files.walkFileTree(path, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
            throws IOException {
          Files.delete(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
          Files.delete(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      // left for the next cleanup
    }
  }
}
