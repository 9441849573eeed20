package dev.jctr.api.diff;

import dev.jctr.api.mount.Mount;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/**
 * Makes a layer from two snapshots' mounts: what {@code upper} adds, changes and removes
 * relative to {@code lower} (no mounts: empty), as a tar with OCI whiteouts, compressed as the
 * media type says. containerd's Diff service "Diff" (ctr snapshots diff, image commits).
 */
public interface LayerDiffer {

  /** What was written: the uncompressed tar's digest (the layer's diffID) and size. */
  record Produced(String diffId, long uncompressedSize) {}

  /**
   * Writes the layer to {@code out}, compressed as {@code mediaType} says (tar, tar+gzip,
   * tar+zstd).
   */
  Produced diff(List<Mount> lower, List<Mount> upper, String mediaType, OutputStream out)
      throws IOException;
}
