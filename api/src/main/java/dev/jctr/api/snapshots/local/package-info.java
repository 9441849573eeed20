/**
 * For snapshotters that keep snapshots in local directories: {@link
 * dev.jctr.api.snapshots.local.LocalSnapshotter} does the bookkeeping (keys, parents, kinds,
 * crash-safe records, cleanup) and leaves a driver two things, filling a new snapshot's
 * directory and describing its mounts. The overlayfs and native snapshotters are built on it.
 */
package dev.jctr.api.snapshots.local;
