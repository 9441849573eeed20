package dev.jctr.snapshots.overlay;

import dev.jctr.api.mount.Mount;
import dev.jctr.api.snapshots.Kind;
import dev.jctr.api.snapshots.local.LocalSnapshotter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The overlayfs snapshotter: each snapshot is {@code snapshots/<id>/fs} (its layer) and, when
 * active, {@code work} (overlay's workdir). Mounts follow containerd's: an active snapshot
 * without parent is a writable bind of its {@code fs}; a view of one committed layer is a
 * read-only bind of that layer; otherwise an overlay with {@code lowerdir} listing the parents
 * nearest first, plus {@code upperdir} and {@code workdir} for an active snapshot (without them
 * the overlay is read-only).
 */
class OverlaySnapshotter extends LocalSnapshotter {

  private final List<String> extraOptions;

  /**
   * Opens the snapshotter under {@code root}.
   *
   * @param extraOptions appended to every overlay mount (for example {@code index=off})
   */
  OverlaySnapshotter(Path root, List<String> extraOptions) throws IOException {
    super(root);
    this.extraOptions = List.copyOf(extraOptions);
  }

  @Override
  protected Path layer(Path dir) {
    return dir.resolve("fs");
  }

  @Override
  protected void populate(Path dir, Kind kind, Path parent) throws IOException {
    Path fs = Files.createDirectory(layer(dir),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    if (kind == Kind.ACTIVE) {
      Files.createDirectory(dir.resolve("work"),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
    }
    if (parent != null) {
      // the new layer's root belongs to whoever owns the parent's
      Files.setAttribute(fs, "unix:uid", Files.getAttribute(layer(parent), "unix:uid"));
      Files.setAttribute(fs, "unix:gid", Files.getAttribute(layer(parent), "unix:gid"));
    }
  }

  @Override
  protected List<Mount> mountsOf(Path dir, Kind kind, List<Path> parents) {
    if (parents.isEmpty()) {
      String mode = kind == Kind.ACTIVE ? "rw" : "ro";
      return List.of(new Mount("bind", layer(dir).toString(), List.of(mode, "rbind")));
    }
    if (kind == Kind.VIEW && parents.size() == 1) {
      return List.of(new Mount("bind", layer(parents.get(0)).toString(),
          List.of("ro", "rbind")));
    }
    List<String> options = new ArrayList<>();
    if (kind == Kind.ACTIVE) {
      options.add("workdir=" + dir.resolve("work"));
      options.add("upperdir=" + layer(dir));
    }
    List<String> lower = new ArrayList<>();
    for (Path parent : parents) {
      lower.add(layer(parent).toString());
    }
    options.add("lowerdir=" + String.join(":", lower));
    options.addAll(extraOptions);
    return List.of(new Mount("overlay", "overlay", options));
  }
}
