package dev.jctr.api.snapshots;

import java.time.Instant;
import java.util.Map;

/**
 * What {@link Snapshotter#stat} reports: the snapshot's key (or name, once committed), its
 * parent's name ("" for none), its kind, labels, and times.
 */
public record SnapshotInfo(String name, String parent, Kind kind, Map<String, String> labels,
    Instant created, Instant updated) {

  public SnapshotInfo {
    labels = Map.copyOf(labels);
  }
}
