package dev.jctr.snapshots.nativefs;

import dev.jctr.api.mount.Mount;
import dev.jctr.api.snapshots.Kind;
import dev.jctr.api.snapshots.local.LocalSnapshotter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * The native snapshotter: every snapshot is a plain directory, {@code snapshots/<id>}, and an
 * active snapshot on a parent starts as a full copy of it. Slower and larger than overlay, but it
 * works on any filesystem and needs no overlay support. Mounts are single bind mounts: an
 * active snapshot's own directory, a view's parent (a view is never written, so it copies
 * nothing).
 */
class NativeSnapshotter extends LocalSnapshotter {

  NativeSnapshotter(Path root) throws IOException {
    super(root);
  }

  @Override
  protected void populate(Path dir, Kind kind, Path parent) throws IOException {
    if (parent == null || kind == Kind.VIEW) {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      return;
    }
    // cp -a keeps owners, modes, times, links, device nodes and xattrs, as a layer needs
    Process copy = new ProcessBuilder("cp", "-a", "--", parent + "/.", dir.toString())
        .redirectErrorStream(true).start();
    String output = new String(copy.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (copy.waitFor() != 0) {
        throw new IOException("copying " + parent + " failed: " + output.strip());
      }
    } catch (InterruptedException e) {
      copy.destroy();
      Thread.currentThread().interrupt();
      throw new IOException("copying " + parent + " was interrupted", e);
    }
  }

  @Override
  protected List<Mount> mountsOf(Path dir, Kind kind, List<Path> parents) {
    if (kind == Kind.VIEW) {
      Path source = parents.isEmpty() ? dir : parents.get(0);
      return List.of(new Mount("bind", source.toString(), List.of("ro", "rbind")));
    }
    return List.of(new Mount("bind", dir.toString(), List.of("rw", "rbind")));
  }
}
