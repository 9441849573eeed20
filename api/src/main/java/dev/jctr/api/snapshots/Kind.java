package dev.jctr.api.snapshots;

/** The kinds of snapshot, numbered as on containerd's wire ({@code Kind} in snapshots.proto). */
public enum Kind {
  /** A read-only snapshot of a committed parent. */
  VIEW(1),
  /** A writable snapshot; it can be committed. */
  ACTIVE(2),
  /** An immutable snapshot, made from an active one; the only kind that can be a parent. */
  COMMITTED(3);

  private final int wire;

  Kind(int wire) {
    this.wire = wire;
  }

  public int wire() {
    return wire;
  }
}
