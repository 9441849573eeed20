package dev.jctr.snapshots.overlay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.mount.Mounts;
import dev.jctr.api.snapshots.Kind;
import dev.jctr.api.snapshots.SnapshotInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The overlay snapshotter with real overlayfs mounts: these tests need root. */
class OverlaySnapshotterTest {

  @TempDir Path dir;
  private Path root;
  private OverlaySnapshotter snapshotter;
  private final List<Path> mounted = new ArrayList<>();

  @BeforeAll
  static void requireRoot() throws Exception {
    Process id = new ProcessBuilder("id", "-u").start();
    String uid = new String(id.getInputStream().readAllBytes()).strip();
    assertEquals("0", uid, "the overlay snapshotter tests mount overlayfs and need root");
  }

  @BeforeEach
  void open() throws IOException {
    root = dir.resolve("io.containerd.snapshotter.v1.overlayfs");
    snapshotter = new OverlaySnapshotter(root, OverlaySupport.extraOptions());
  }

  @AfterEach
  void unmountAll() throws IOException {
    for (Path target : mounted.reversed()) {
      Mounts.unmount(target);
    }
  }

  private Path mount(List<Mount> mounts) throws IOException {
    Path target = Files.createTempDirectory(dir, "mnt-");
    Mounts.mountAll(mounts, target);
    mounted.add(target);
    return target;
  }

  private void unmount(Path target) throws IOException {
    Mounts.unmount(target);
    mounted.remove(target);
  }

  @Test
  void layersMountWriteCommitAndAViewShowsThemWithDeletionsHidden() throws IOException {
    List<Mount> base = snapshotter.prepare("base-active", "", Map.of());
    assertEquals("bind", base.get(0).type());
    assertFalse(base.get(0).readOnly());
    Path target = mount(base);
    Files.writeString(target.resolve("a"), "from base");
    Files.writeString(target.resolve("b"), "also from base");
    unmount(target);
    snapshotter.commit("base", "base-active", Map.of("layer", "0"));

    List<Mount> child = snapshotter.prepare("child-active", "base", Map.of());
    assertEquals("overlay", child.get(0).type());
    assertTrue(child.get(0).options().stream().anyMatch(o -> o.startsWith("upperdir=")));
    target = mount(child);
    assertEquals("from base", Files.readString(target.resolve("a")));
    Files.delete(target.resolve("a"));
    Files.writeString(target.resolve("c"), "from child");
    unmount(target);
    snapshotter.commit("child", "child-active", Map.of());

    List<Mount> view = snapshotter.view("view", "child", Map.of());
    assertTrue(view.get(0).readOnly());
    target = mount(view);
    assertFalse(Files.exists(target.resolve("a")), "the child's deletion hides the base's a");
    assertEquals("also from base", Files.readString(target.resolve("b")));
    assertEquals("from child", Files.readString(target.resolve("c")));
    Path readOnly = target;
    assertThrows(IOException.class, () -> Files.writeString(readOnly.resolve("d"), "x"));
    unmount(target);

    List<Mount> baseView = snapshotter.view("base-view", "base", Map.of());
    assertEquals(new Mount("bind", root.resolve("snapshots/1/fs").toString(),
        List.of("ro", "rbind")), baseView.get(0));
    target = mount(baseView);
    assertEquals("from base", Files.readString(target.resolve("a")));
    unmount(target);

    assertEquals(Kind.COMMITTED, snapshotter.stat("child").kind());
    assertEquals("base", snapshotter.stat("child").parent());
    assertEquals(2, snapshotter.usage("base").inodes() - 1, "a and b, beside the root");
    assertEquals("from base".length() + "also from base".length(), snapshotter.usage("base").size());

    for (String key : List.of("view", "base-view", "child", "base")) {
      snapshotter.remove(key);
    }
    snapshotter.cleanup();
    try (Stream<Path> left = Files.list(root.resolve("snapshots"))) {
      assertEquals(List.of(), left.toList());
    }
    try (Stream<Path> left = Files.list(root.resolve("metadata"))) {
      assertEquals(List.of(), left.toList());
    }
  }

  @Test
  void wrongUseIsRefusedAndLeavesNothingBehind() throws IOException {
    snapshotter.prepare("active", "", Map.of());
    assertThrows(AlreadyExistsException.class, () -> snapshotter.prepare("active", "", Map.of()));
    assertTrue(assertThrows(NotFoundException.class,
        () -> snapshotter.prepare("x", "missing", Map.of())).getMessage().contains("missing"));
    assertTrue(assertThrows(InvalidArgumentException.class,
        () -> snapshotter.prepare("x", "active", Map.of())).getMessage().contains("not committed"));
    assertThrows(InvalidArgumentException.class, () -> snapshotter.prepare("", "", Map.of()));
    assertThrows(InvalidArgumentException.class,
        () -> snapshotter.prepare("x", "", Map.of("k", "v".repeat(5000))));
    snapshotter.commit("committed", "active", Map.of());
    assertThrows(NotFoundException.class, () -> snapshotter.stat("active"));
    assertThrows(FailedPreconditionException.class, () -> snapshotter.mounts("committed"));
    snapshotter.view("view", "committed", Map.of());
    assertTrue(assertThrows(FailedPreconditionException.class,
        () -> snapshotter.commit("v2", "view", Map.of())).getMessage().contains("view"));
    assertTrue(assertThrows(FailedPreconditionException.class,
        () -> snapshotter.remove("committed")).getMessage().contains("children"));
    snapshotter.prepare("other", "", Map.of());
    assertThrows(AlreadyExistsException.class,
        () -> snapshotter.commit("committed", "other", Map.of()));
    assertEquals(Kind.ACTIVE, snapshotter.stat("other").kind(), "a refused commit changes nothing");
    try (Stream<Path> dirs = Files.list(root.resolve("snapshots"))) {
      assertEquals(3, dirs.count(), "committed, view and other; nothing from the refusals");
    }
  }

  @Test
  void recordsSurviveAReopenAndNewIdsFollowTheExistingOnes() throws IOException {
    snapshotter.prepare("a", "", Map.of("k", "v"));
    snapshotter.commit("layer", "a", Map.of("k", "v"));
    snapshotter.prepare("top", "layer", Map.of());
    snapshotter = new OverlaySnapshotter(root, List.of());
    SnapshotInfo top = snapshotter.stat("top");
    assertEquals("layer", top.parent());
    assertEquals(Map.of("k", "v"), snapshotter.stat("layer").labels());
    snapshotter.prepare("next", "layer", Map.of());
    assertTrue(snapshotter.mounts("next").get(0).options().stream()
        .anyMatch(o -> o.startsWith("upperdir=") && o.contains("/snapshots/3/fs")));
  }

  @Test
  void aCrashMidCreateLeavesNoSnapshotAndCleanupRemovesTheRest() throws IOException {
    snapshotter.prepare("kept", "", Map.of());
    Path snapshots = root.resolve("snapshots");
    // what a crash can leave: a staging directory, a renamed directory without its record,
    // and a record file half-written
    Path staging = Files.createDirectories(snapshots.resolve("new-crashed/fs"));
    Files.setLastModifiedTime(staging.getParent(), FileTime.from(Instant.now().minusSeconds(600)));
    Files.createDirectories(snapshots.resolve("7/fs"));
    Files.write(root.resolve("metadata/7.partial"), new byte[] {0, 0, 0, 1, 0});

    snapshotter = new OverlaySnapshotter(root, List.of());
    List<String> names = new ArrayList<>();
    snapshotter.walk(Filter.always(), info -> names.add(info.name()));
    assertEquals(List.of("kept"), names);
    assertFalse(Files.exists(root.resolve("metadata/7.partial")));
    snapshotter.prepare("after", "", Map.of());
    assertTrue(snapshotter.mounts("after").get(0).source().contains("/snapshots/8/"),
        "the orphan's id is not reused");
    snapshotter.cleanup();
    try (Stream<Path> dirs = Files.list(snapshots)) {
      assertEquals(List.of("1", "8"), dirs.map(p -> p.getFileName().toString()).sorted()
          .toList());
    }
  }

  @Test
  void walkFiltersAndLabelUpdates() {
    snapshotter.prepare("a", "", Map.of("team", "blue"));
    snapshotter.commit("layer", "a", Map.of("team", "blue", "tier", "base"));
    snapshotter.prepare("work", "layer", Map.of("team", "red"));
    List<String> found = new ArrayList<>();
    snapshotter.walk(Filter.parse("kind==committed"), i -> found.add(i.name()));
    snapshotter.walk(Filter.parse("labels.team==red,parent==layer"), i -> found.add(i.name()));
    assertEquals(List.of("layer", "work"), found);

    SnapshotInfo current = snapshotter.stat("layer");
    SnapshotInfo change = new SnapshotInfo("layer", "", Kind.COMMITTED,
        Map.of("team", "green"), current.created(), current.updated());
    assertEquals(Map.of("team", "green", "tier", "base"),
        snapshotter.update(change, List.of("labels.team")).labels());
    assertEquals(Map.of("team", "green"),
        snapshotter.update(change, List.of("labels.team", "labels.tier")).labels());
    assertThrows(InvalidArgumentException.class,
        () -> snapshotter.update(change, List.of("parent")));
  }

  @Test
  void a128LayerChainMountsDespiteThePageSizeLimit() throws IOException {
    String parent = "";
    for (int i = 1; i <= 128; i++) {
      Path target = mount(snapshotter.prepare("active-" + i, parent, Map.of()));
      Files.writeString(target.resolve("layer-" + i), Integer.toString(i));
      unmount(target);
      snapshotter.commit("layer-" + i, "active-" + i, Map.of());
      parent = "layer-" + i;
    }
    List<Mount> top = snapshotter.prepare("top", parent, Map.of());
    assertTrue(String.join(",", top.get(0).options()).length() > 4096,
        "absolute layer paths are longer than a page");
    Path target = mount(top);
    assertEquals("1", Files.readString(target.resolve("layer-1")));
    assertEquals("128", Files.readString(target.resolve("layer-128")));
    Files.writeString(target.resolve("written-on-top"), "ok");
    unmount(target);
    assertEquals(2, snapshotter.usage("top").size(), "only what was written on top");
  }
}
