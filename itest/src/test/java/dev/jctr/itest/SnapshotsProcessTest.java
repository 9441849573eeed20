package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots through the real daemon with the overlayfs snapshotter: Debian's {@code ctr} and
 * {@code jctr} as clients, and the mounts they print really mounted (this needs root).
 */
class SnapshotsProcessTest {

  private static final Duration READY = Duration.ofSeconds(20);
  private static final Duration COMMAND = Duration.ofSeconds(30);

  @TempDir static Path shared;
  private static DaemonProcess daemon;
  private static String ctr;
  private final List<Path> mounted = new ArrayList<>();

  @BeforeAll
  static void startDaemon() throws Exception {
    ctr = Commands.requireTool("ctr", "containerd");
    assertEquals("0", Commands.run(COMMAND, List.of("id", "-u")).stdout().strip(),
        "snapshot tests mount overlayfs and need root");
    daemon = DaemonProcess.start(shared).awaitReady(READY);
    long deadline = System.nanoTime() + READY.toNanos();
    while (jctr("snapshots", "ls").exitCode() != 0) {
      assertTrue(System.nanoTime() < deadline, "the overlayfs snapshotter never became usable");
      Thread.sleep(100);
    }
  }

  @AfterAll
  static void stopDaemon() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
  }

  @AfterEach
  void unmountLeftovers() {
    for (Path target : mounted.reversed()) {
      Commands.run(COMMAND, List.of("umount", target.toString()));
    }
  }

  /** Runs the mount commands a client printed for {@code target}. */
  private Path mount(CommandResult printed, Path target) {
    printed.requireSuccess("mount commands");
    for (String line : printed.stdout().lines().toList()) {
      Commands.run(COMMAND, List.of("sh", "-c", line)).requireSuccess(line);
    }
    mounted.add(target);
    return target;
  }

  private void unmount(Path target) {
    Commands.run(COMMAND, List.of("umount", target.toString())).requireSuccess("umount");
    mounted.remove(target);
  }

  private static Path backendSnapshots() {
    return shared.resolve("root/io.containerd.snapshotter.v1.overlayfs/snapshots");
  }

  private static long backendCount() throws IOException {
    try (Stream<Path> dirs = Files.list(backendSnapshots())) {
      return dirs.count();
    }
  }

  @Test
  void ctrLayersMountCommitAndAViewHidesTheChildsDeletion(@TempDir Path dir) throws Exception {
    Path m1 = Files.createDirectory(dir.resolve("m1"));
    ctr("snapshots", "prepare", "layer-0").requireSuccess("ctr snapshots prepare");
    mount(ctr("snapshots", "mounts", m1.toString(), "layer-0"), m1);
    Files.writeString(m1.resolve("a"), "from base");
    Files.writeString(m1.resolve("b"), "kept");
    unmount(m1);
    ctr("snapshots", "commit", "base", "layer-0").requireSuccess("ctr snapshots commit");

    ctr("snapshots", "prepare", "layer-1", "base").requireSuccess("prepare on base");
    Path m2 = Files.createDirectory(dir.resolve("m2"));
    mount(ctr("snapshots", "mounts", m2.toString(), "layer-1"), m2);
    assertEquals("from base", Files.readString(m2.resolve("a")));
    Files.delete(m2.resolve("a"));
    Files.writeString(m2.resolve("c"), "from child");
    unmount(m2);
    ctr("snapshots", "commit", "child", "layer-1").requireSuccess("commit child");

    Path m3 = Files.createDirectory(dir.resolve("m3"));
    mount(jctr("snapshots", "view", "--target", m3.toString(), "v", "child"), m3);
    assertFalse(Files.exists(m3.resolve("a")), "whiteout hides the base's file");
    assertEquals("kept", Files.readString(m3.resolve("b")));
    assertEquals("from child", Files.readString(m3.resolve("c")));
    unmount(m3);

    String tree = ctr("snapshots", "tree").requireSuccess("ctr snapshots tree").stdout();
    assertTrue(tree.contains(" base") && tree.contains("\\_ child") && tree.contains("\\_ v"),
        tree);
    String usage = ctr("snapshots", "usage").requireSuccess("ctr snapshots usage").stdout();
    assertTrue(usage.lines().anyMatch(l -> l.startsWith("base") && l.contains("13.0 B")), usage);
    assertEquals(rows(ctr("snapshots", "ls").stdout()), rows(jctr("snapshots", "ls").stdout()),
        "ctr and jctr list the same");

    CommandResult refused = ctr("snapshots", "rm", "base");
    assertNotEquals(0, refused.exitCode());
    assertTrue(refused.stderr().contains("has a child"), refused.stderr());
    ctr("snapshots", "rm", "v").requireSuccess("rm view");
    jctr("snapshots", "rm", "child", "base").requireSuccess("jctr rm");
    assertEquals(List.of("KEY PARENT KIND"), rows(ctr("snapshots", "ls").stdout()));
    assertEquals("", jctr("snapshots", "ls", "-q").stdout().strip());
    assertEquals(0, backendCount(), "the backend's directories are gone too");
  }

  @Test
  void ctrSnapshotsDiffMakesALayerOfAdditionsChangesAndWhiteouts(@TempDir Path dir)
      throws Exception {
    Path m = Files.createDirectory(dir.resolve("m"));
    ctr("-n", "diff", "snapshots", "prepare", "d-base").requireSuccess("prepare");
    mount(ctr("-n", "diff", "snapshots", "mounts", m.toString(), "d-base"), m);
    Files.writeString(m.resolve("kept.txt"), "kept\n");
    Files.writeString(m.resolve("changed.txt"), "before\n");
    Files.writeString(m.resolve("removed.txt"), "removed\n");
    unmount(m);
    ctr("-n", "diff", "snapshots", "commit", "d-base-c", "d-base").requireSuccess("commit");
    ctr("-n", "diff", "snapshots", "prepare", "d-top", "d-base-c").requireSuccess("prepare");
    mount(ctr("-n", "diff", "snapshots", "mounts", m.toString(), "d-top"), m);
    Files.writeString(m.resolve("changed.txt"), "after, longer\n");
    Files.delete(m.resolve("removed.txt"));
    Files.createDirectories(m.resolve("new/dir"));
    Files.writeString(m.resolve("new/dir/file"), "new\n");
    unmount(m);
    Path layer = dir.resolve("layer.tgz");
    Commands.run(COMMAND, List.of("sh", "-c", ctr + " --address " + daemon.socket()
        + " -n diff snapshots diff d-top > " + layer)).requireSuccess("ctr snapshots diff");
    List<String> entries = Commands.run(COMMAND, List.of("tar", "tzf", layer.toString()))
        .requireSuccess("tar tzf").stdout().lines().sorted().toList();
    assertEquals(List.of(".wh.removed.txt", "changed.txt", "new/", "new/dir/", "new/dir/file"),
        entries, "what the top changed, and a whiteout for what it removed");
    String layerDigest = "sha256:" + Commands.run(COMMAND, List.of("sha256sum",
        layer.toString())).stdout().split(" ")[0];
    String listed = ctr("-n", "diff", "content", "ls").stdout();
    assertTrue(listed.contains(layerDigest) && listed.contains("containerd.io/uncompressed="),
        "the layer is in the content store with its diffID: " + listed);
    ctr("-n", "diff", "snapshots", "rm", "d-top").requireSuccess("rm");
    ctr("-n", "diff", "snapshots", "rm", "d-base-c").requireSuccess("rm");
  }

  @Test
  void theSameKeyInTwoNamespacesIsTwoSnapshots() {
    jctr("-n", "k8s.io", "snapshots", "prepare", "shared").requireSuccess("k8s.io prepare");
    jctr("-n", "moby", "snapshots", "prepare", "shared").requireSuccess("moby prepare");
    jctr("-n", "moby", "snapshots", "commit", "moby-layer", "shared").requireSuccess("commit");
    assertTrue(ctr("-n", "k8s.io", "snapshots", "ls").stdout().contains("Active"),
        "moby's commit did not touch k8s.io's snapshot");
    assertFalse(ctr("-n", "k8s.io", "snapshots", "ls").stdout().contains("moby-layer"));
    // a root for the collector, which runs after the removal below: unreferenced snapshots go
    ctr("-n", "moby", "snapshots", "label", "moby-layer", "containerd.io/gc.root=test")
        .requireSuccess("label");
    jctr("-n", "k8s.io", "snapshots", "rm", "shared").requireSuccess("rm");
    assertEquals(List.of("moby-layer"), jctr("-n", "moby", "snapshots", "ls", "-q").stdout()
        .lines().toList());
    jctr("-n", "moby", "snapshots", "rm", "moby-layer").requireSuccess("cleanup");
  }

  @Test
  void badRequestsAreRefusedByNameAndLeaveNothingBehind() throws IOException {
    long before = backendCount();
    CommandResult unknown = ctr("snapshots", "--snapshotter", "zfs", "prepare", "x");
    assertTrue(unknown.stderr().contains("snapshotter \"zfs\" (available: "), unknown.stderr());
    for (String key : List.of("../escape", "a/../../b")) {
      CommandResult traversal = ctr("snapshots", "prepare", key);
      assertNotEquals(0, traversal.exitCode());
      assertTrue(traversal.stderr().contains("invalid argument"), traversal.stderr());
    }
    jctr("snapshots", "prepare", "p").requireSuccess("prepare");
    jctr("snapshots", "commit", "p-layer", "p").requireSuccess("commit");
    jctr("snapshots", "view", "p-view", "p-layer").requireSuccess("view");
    jctr("gc").requireSuccess("gc");
    assertTrue(jctr("snapshots", "info", "p-view").stdout().contains("containerd.io/gc.root"),
        "what jctr makes by hand is a GC root: the collection above left it");
    CommandResult commitView = jctr("snapshots", "commit", "again", "p-view");
    assertEquals(1, commitView.exitCode());
    assertTrue(commitView.stderr().contains("FAILED_PRECONDITION"), commitView.stderr());
    jctr("snapshots", "rm", "p-view", "p-layer").requireSuccess("cleanup");
    assertEquals(before, backendCount());
  }

  @Test
  void aSnapshotterBundleDroppedInServesIsSwappedAndLeavesWhileOverlayStaysMounted(
      @TempDir Path dir) throws Exception {
    Path bundles = Files.createDirectories(dir.resolve("bundles"));
    try (Stream<Path> jars = Files.list(Distribution.home().resolve("bundles"))) {
      for (Path jar : jars.toList()) {
        Files.copy(jar, bundles.resolve(jar.getFileName()));
      }
    }
    Path nativeJar;
    try (Stream<Path> extras = Files.list(Distribution.home().resolve("extras"))) {
      nativeJar = extras.filter(p -> p.getFileName().toString()
          .startsWith("plugin-snapshotter-native")).findFirst().orElseThrow();
    }
    try (DaemonProcess hot = DaemonProcess.start(dir, "--bundles", bundles.toString())
        .awaitReady(READY)) {
      String address = hot.socket().toString();
      awaitCommand(() -> jctrAt(address, "snapshots", "ls").exitCode() == 0, "overlayfs");
      assertFalse(jctrAt(address, "plugins", "ls").stdout().contains("native"));

      Path overlay = Files.createDirectory(dir.resolve("overlay"));
      mount(jctrAt(address, "snapshots", "prepare", "--target", overlay.toString(), "rootfs"),
          overlay);
      Files.writeString(overlay.resolve("before"), "1");

      Path dropped = bundles.resolve(nativeJar.getFileName());
      Files.copy(nativeJar, dropped);
      awaitCommand(() -> jctrAt(address, "plugins", "ls").stdout().lines()
          .anyMatch(l -> l.matches("io\\.containerd\\.snapshotter\\.v1\\s+native\\s+.*ok")),
          "native in plugins ls");
      Path n = Files.createDirectory(dir.resolve("native"));
      mount(jctrAt(address, "snapshots", "--snapshotter", "native", "prepare", "--target",
          n.toString(), "n1"), n);
      Files.writeString(n.resolve("from-native"), "kept across the swap");
      unmount(n);
      jctrAt(address, "snapshots", "--snapshotter", "native", "commit", "n1-layer", "n1")
          .requireSuccess("native commit");

      // a new version of the jar: same bundle, replaced in place
      Path newer = dir.resolve("newer.jar");
      Files.copy(nativeJar, newer);
      Files.setLastModifiedTime(newer, java.nio.file.attribute.FileTime.fromMillis(
          System.currentTimeMillis() + 5_000));
      Files.copy(newer, dropped, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
      awaitCommand(() -> hot.log().contains("updated bundle dev.jctr.plugin-snapshotter-native"),
          "the native bundle updated");
      awaitCommand(() -> jctrAt(address, "snapshots", "--snapshotter", "native", "ls")
          .exitCode() == 0, "native serving after the swap");
      mount(jctrAt(address, "snapshots", "--snapshotter", "native", "view", "--target",
          n.toString(), "n1-view", "n1-layer"), n);
      assertEquals("kept across the swap", Files.readString(n.resolve("from-native")));
      unmount(n);

      Files.delete(dropped);
      awaitCommand(() -> !jctrAt(address, "plugins", "ls").stdout().contains("native"),
          "native gone from plugins ls");
      CommandResult gone = jctrAt(address, "snapshots", "--snapshotter", "native", "ls");
      assertTrue(gone.stderr().contains("NOT_FOUND"), gone.stderr());

      Files.writeString(overlay.resolve("after"), "2");
      assertEquals("1", Files.readString(overlay.resolve("before")));
      unmount(overlay);
      jctrAt(address, "snapshots", "rm", "rootfs").requireSuccess("overlay still serves");
    }
  }

  @Test
  void aProxyPluginForwardsToAnotherDaemonsSnapshotsService(@TempDir Path dir) throws Exception {
    Path remoteDir = Files.createDirectories(dir.resolve("remote"));
    Path localDir = Files.createDirectories(dir.resolve("local"));
    // the remote answers requests for "remote" (the name the proxy sends) with its overlayfs
    Path remoteConfig = remoteDir.resolve("config.toml");
    Files.writeString(remoteConfig, "version = 3\n[plugins.\"io.containerd.grpc.v1.snapshots\"]\n"
        + "  fallback_snapshotter = \"overlayfs\"\n");
    try (DaemonProcess remote = DaemonProcess.start(remoteDir, "--config",
        remoteConfig.toString()).awaitReady(READY)) {
      String remoteAddress = remote.socket().toString();
      awaitCommand(() -> jctrAt(remoteAddress, "snapshots", "ls").exitCode() == 0,
          "the remote's overlayfs");
      Path config = localDir.resolve("config.toml");
      Files.writeString(config, "version = 3\n[proxy_plugins.remote]\n  type = \"snapshot\"\n"
          + "  address = \"" + remoteAddress + "\"\n");
      try (DaemonProcess local = DaemonProcess.start(localDir, "--config", config.toString())
          .awaitReady(READY)) {
        String address = local.socket().toString();
        awaitCommand(() -> jctrAt(address, "plugins", "ls").stdout().lines().anyMatch(
            l -> l.matches("io\\.containerd\\.snapshotter\\.v1\\s+remote\\s+.*ok")),
            "the proxy snapshotter in plugins ls");
        awaitCommand(() -> jctrAt(address, "snapshots", "--snapshotter", "remote", "ls")
            .exitCode() == 0, "the proxy snapshotter serving");
        Path target = Files.createDirectory(dir.resolve("mnt"));
        mount(jctrAt(address, "-n", "k8s.io", "snapshots", "--snapshotter", "remote",
            "prepare", "--target", target.toString(), "through-proxy"), target);
        Files.writeString(target.resolve("f"), "written through the proxy");
        unmount(target);
        jctrAt(address, "-n", "k8s.io", "snapshots", "--snapshotter", "remote", "commit",
            "proxied-layer", "through-proxy").requireSuccess("commit through the proxy");

        // the remote holds it under the backend key the local daemon chose for k8s.io
        List<String> remoteKeys = jctrAt(remoteAddress, "snapshots", "--snapshotter", "remote",
            "ls", "-q").stdout().lines().toList();
        assertEquals(1, remoteKeys.size(), remoteKeys.toString());
        assertTrue(remoteKeys.get(0).matches("k8s\\.io/\\d+/proxied-layer"), remoteKeys.get(0));
        assertEquals(List.of("proxied-layer"), jctrAt(address, "-n", "k8s.io", "snapshots",
            "--snapshotter", "remote", "ls", "-q").stdout().lines().toList());
        CommandResult missing = jctrAt(address, "-n", "k8s.io", "snapshots", "--snapshotter",
            "remote", "mounts", "/mnt", "proxied-layer");
        assertTrue(missing.stderr().contains("FAILED_PRECONDITION"), missing.stderr());
        jctrAt(address, "-n", "k8s.io", "snapshots", "--snapshotter", "remote", "rm",
            "proxied-layer").requireSuccess("rm through the proxy");
        assertEquals("", jctrAt(remoteAddress, "snapshots", "--snapshotter", "remote", "ls",
            "-q").stdout().strip());
      }
    }
  }

  @Test
  void overlayfsIsSkippedWithTheReasonWhereRootCannotDoOverlay(@TempDir Path dir)
      throws Exception {
    // an overlay's upper directory cannot be on overlayfs: root inside an overlay mount
    for (String sub : List.of("lower", "upper", "work", "merged")) {
      Files.createDirectory(dir.resolve(sub));
    }
    Path merged = dir.resolve("merged");
    Commands.run(COMMAND, List.of("mount", "-t", "overlay", "overlay", "-o",
        "lowerdir=" + dir.resolve("lower") + ",upperdir=" + dir.resolve("upper") + ",workdir="
            + dir.resolve("work"), merged.toString())).requireSuccess("outer overlay");
    mounted.add(merged);
    try (DaemonProcess onOverlay = DaemonProcess.start(merged).awaitReady(READY)) {
      String address = onOverlay.socket().toString();
      awaitCommand(() -> jctrAt(address, "plugins", "ls").stdout().contains("overlayfs"),
          "overlayfs in plugins ls");
      assertTrue(jctrAt(address, "plugins", "ls").stdout().lines().anyMatch(
          l -> l.matches("io\\.containerd\\.snapshotter\\.v1\\s+overlayfs\\s+.*skip")),
          jctrAt(address, "plugins", "ls").stdout());
      String detailed = jctrAt(address, "plugins", "ls", "--detailed").stdout();
      assertTrue(detailed.contains("overlayfs does not work under " + merged), detailed);
      CommandResult refused = jctrAt(address, "snapshots", "ls");
      assertTrue(refused.stderr().contains("NOT_FOUND"), refused.stderr());
    }
  }

  private static void awaitCommand(java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Thread.sleep(200);
    }
  }

  private static CommandResult jctrAt(String address, String... args) {
    List<String> command = new ArrayList<>(List.of(Distribution.jctr().toString(),
        "--address", address));
    command.addAll(List.of(args));
    return Commands.run(COMMAND, command);
  }

  /** Table rows with runs of spaces collapsed, so column widths do not matter. */
  private static List<String> rows(String table) {
    return table.lines().map(l -> l.strip().replaceAll("\\s+", " ")).sorted().toList();
  }

  private static CommandResult ctr(String... args) {
    List<String> command = new ArrayList<>(List.of(ctr, "--address", daemon.socket().toString()));
    command.addAll(List.of(args));
    return Commands.run(COMMAND, command);
  }

  private static CommandResult jctr(String... args) {
    List<String> command = new ArrayList<>(List.of(Distribution.jctr().toString(),
        "--address", daemon.socket().toString()));
    command.addAll(List.of(args));
    return Commands.run(COMMAND, command);
  }
}
