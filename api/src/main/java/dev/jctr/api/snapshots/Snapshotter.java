package dev.jctr.api.snapshots;

import dev.jctr.api.filters.Filter;
import dev.jctr.api.mount.Mount;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A snapshotter, with containerd's model. Snapshots are named by keys; a committed snapshot by
 * the name it was committed under. Keys and names share one space within a snapshotter and are
 * unique in it. Keys seen here carry no namespace: the Snapshots service maps each namespace's
 * keys to internal ones before calling, so an implementation never needs to know namespaces.
 *
 * <p>Kinds: {@link Kind#ACTIVE} (writable, can be committed), {@link Kind#VIEW} (read-only),
 * {@link Kind#COMMITTED} (immutable; the only kind that can be a parent).
 *
 * <p>Errors are the SPI's exceptions from {@code dev.jctr.api.errors}: a key or name that
 * exists is {@code AlreadyExistsException}; a missing one {@code NotFoundException}; a parent
 * that is not committed {@code InvalidArgumentException}; an operation the snapshot's kind does
 * not allow (committing a view, mounting a committed snapshot) or removing a snapshot that has
 * children {@code FailedPreconditionException}. A failed operation leaves nothing behind: no
 * record, no directory.
 *
 * <p>To ship one: register an implementation as an OSGi service of this interface with the
 * service property {@value #NAME_PROPERTY} set to the name clients select it by (for example
 * {@code native}). Implementations must be safe for concurrent use.
 */
public interface Snapshotter extends AutoCloseable {

  /** The service property that names a snapshotter. */
  String NAME_PROPERTY = "name";

  /**
   * The snapshot's information.
   *
   * @throws dev.jctr.api.errors.NotFoundException when there is no snapshot {@code key}
   */
  SnapshotInfo stat(String key);

  /**
   * Updates the labels, the only mutable part. With no paths the labels are replaced; with
   * {@code labels} likewise; with {@code labels.<key>} only that label is set, or removed when
   * {@code info} does not have it.
   *
   * @return the updated information
   */
  SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths);

  /**
   * Disk use: measured now for an active snapshot, as frozen at commit for a committed one.
   */
  Usage usage(String key);

  /**
   * How to mount an active snapshot (writable) or a view (read-only).
   *
   * @throws dev.jctr.api.errors.FailedPreconditionException for a committed snapshot
   */
  List<Mount> mounts(String key);

  /**
   * Creates an active snapshot {@code key} on top of the committed {@code parent} ("" for an
   * empty one) and returns its mounts.
   */
  List<Mount> prepare(String key, String parent, Map<String, String> labels);

  /** Creates a read-only view {@code key} of the committed {@code parent} ("" for empty). */
  List<Mount> view(String key, String parent, Map<String, String> labels);

  /**
   * Turns the active snapshot {@code key} into the committed snapshot {@code name}, keeping its
   * contents where they are; {@code key} is gone afterwards.
   *
   * @throws dev.jctr.api.errors.FailedPreconditionException when {@code key} is not active
   */
  void commit(String name, String key, Map<String, String> labels);

  /**
   * Removes a snapshot of any kind. Its files may go now or at the next {@link #cleanup}.
   *
   * @throws dev.jctr.api.errors.FailedPreconditionException when it has children
   */
  void remove(String key);

  /** Calls {@code visitor} with every snapshot {@code filter} matches (fields: name, parent,
   *  kind, labels.&lt;key&gt;). */
  void walk(Filter filter, Consumer<SnapshotInfo> visitor);

  /** Deletes on-disk state that no snapshot refers to, left by removals or by a crash. */
  void cleanup();

  @Override
  void close();
}
