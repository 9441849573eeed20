package dev.jctr.snapshots.nativefs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.mount.Mount;
import dev.jctr.api.mount.Mounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The native snapshotter with real bind mounts: needs root. */
class NativeSnapshotterTest {

  @TempDir Path dir;

  private Path mount(List<Mount> mounts) throws IOException {
    Path target = Files.createTempDirectory(dir, "mnt-");
    Mounts.mountAll(mounts, target);
    return target;
  }

  @Test
  void anActiveChildIsACopyAndAViewIsItsParentReadOnly() throws Exception {
    assertEquals("0", new String(new ProcessBuilder("id", "-u").start().getInputStream()
        .readAllBytes()).strip(), "the native snapshotter tests bind-mount and need root");
    NativeSnapshotter snapshotter = new NativeSnapshotter(dir.resolve("native"));
    Path target = mount(snapshotter.prepare("a", "", Map.of()));
    Files.writeString(target.resolve("file"), "base");
    Files.createDirectory(target.resolve("private"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Files.createSymbolicLink(target.resolve("link"), Path.of("file"));
    Mounts.unmount(target);
    snapshotter.commit("base", "a", Map.of());

    target = mount(snapshotter.prepare("b", "base", Map.of()));
    assertEquals("base", Files.readString(target.resolve("link")));
    assertEquals("rwx------", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(target.resolve("private"))));
    Files.delete(target.resolve("file"));
    Mounts.unmount(target);

    target = mount(snapshotter.view("v", "base", Map.of()));
    assertTrue(Files.exists(target.resolve("file")), "the parent is untouched by the child");
    Path view = target;
    assertThrows(IOException.class, () -> Files.writeString(view.resolve("x"), "x"));
    Mounts.unmount(target);
    assertFalse(snapshotter.mounts("b").get(0).readOnly());

    snapshotter.remove("v");
    snapshotter.remove("b");
    snapshotter.remove("base");
    snapshotter.cleanup();
    try (var left = Files.list(dir.resolve("native/snapshots"))) {
      assertEquals(0, left.count());
    }
  }
}
