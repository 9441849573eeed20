package dev.jctr.api.diff;

import dev.jctr.api.mount.Mount;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Applies a layer (a tar, possibly compressed) onto a snapshot's mounts. Nothing in the layer
 * may land outside the snapshot: absolute paths, {@code ..}, symlinks or hard links that lead
 * out are refused ({@code InvalidArgumentException}) and the apply stops.
 */
public interface LayerApplier {

  /** What was applied: the uncompressed stream's digest (the layer's diffID) and size. */
  record Applied(String diffId, long size) {}

  /**
   * Applies {@code layer}, compressed as {@code mediaType} says (tar, tar+gzip, tar+zstd, and
   * Docker's equivalents), onto the active snapshot {@code mounts} describe.
   */
  Applied apply(InputStream layer, String mediaType, List<Mount> mounts) throws IOException;
}
