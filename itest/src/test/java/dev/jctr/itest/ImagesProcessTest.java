package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images through the real daemon: Debian's {@code ctr} imports (without unpacking), lists,
 * tags, exports and removes an OCI image built by the test; {@code jctr} sees the same.
 */
class ImagesProcessTest {

  private static final Duration READY = Duration.ofSeconds(20);
  private static final Duration COMMAND = Duration.ofSeconds(60);

  @TempDir static Path shared;
  private static DaemonProcess daemon;
  private static String ctr;

  @BeforeAll
  static void startDaemon() throws Exception {
    ctr = Commands.requireTool("ctr", "containerd");
    daemon = DaemonProcess.start(shared).awaitReady(READY).awaitServing(READY, "images", "ls");
  }

  @AfterAll
  static void stopDaemon() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
  }

  @Test
  void ctrImportsListsTagsExportsAndRemovesImagesPerNamespace(@TempDir Path dir)
      throws Exception {
    OciArchive.Built image = OciArchive.image("local/hello:1", List.of(
        List.of(OciArchive.Entry.file("hello.txt", "hello\n")),
        List.of(OciArchive.Entry.file("second.txt", "second layer\n"))));
    Path archive = Files.write(dir.resolve("hello.tar"), image.archive());
    ctr("-n", "k8s.io", "images", "import", "--no-unpack", archive.toString())
        .requireSuccess("ctr images import");

    String listed = ctr("-n", "k8s.io", "images", "ls").requireSuccess("ctr images ls").stdout();
    assertTrue(listed.contains("local/hello:1") && listed.contains(image.manifestDigest())
        && listed.contains("linux/amd64"), listed);
    assertTrue(jctr("-n", "k8s.io", "images", "ls").stdout().contains(image.manifestDigest()));
    assertFalse(ctr("-n", "moby", "images", "ls", "-q").stdout().contains("local/hello"),
        "moby does not see k8s.io's image");

    ctr("-n", "k8s.io", "images", "tag", "local/hello:1", "local/hello:2")
        .requireSuccess("ctr images tag");
    jctr("-n", "k8s.io", "images", "tag", "local/hello:2", "local/hello:3")
        .requireSuccess("jctr images tag");
    assertEquals(List.of("local/hello:1", "local/hello:2", "local/hello:3"),
        ctr("-n", "k8s.io", "images", "ls", "-q").stdout().lines().sorted().toList());

    Path exported = dir.resolve("out.tar");
    ctr("-n", "k8s.io", "images", "export", exported.toString(), "local/hello:3")
        .requireSuccess("ctr images export");
    String members = Commands.run(COMMAND, List.of("tar", "tf", exported.toString()))
        .requireSuccess("tar tf").stdout();
    assertTrue(members.contains("blobs/sha256/" + image.manifestDigest().substring(7)), members);

    ctr("-n", "k8s.io", "images", "rm", "local/hello:1", "local/hello:2")
        .requireSuccess("ctr images rm");
    jctr("-n", "k8s.io", "images", "rm", "local/hello:3").requireSuccess("jctr images rm");
    assertEquals("", ctr("-n", "k8s.io", "images", "ls", "-q").stdout().strip());
    CommandResult missing = jctr("-n", "k8s.io", "images", "inspect", "local/hello:1");
    assertTrue(missing.stderr().contains("NOT_FOUND"), missing.stderr());
  }

  @Test
  void ctrImportUnpacksIntoTheSameChainIdsAsContainerd(@TempDir Path dir) throws Exception {
    OciArchive.Built image = OciArchive.image("local/layers:1", List.of(
        List.of(OciArchive.Entry.file("etc/", ""), OciArchive.Entry.file("etc/hello", "hi\n"),
            OciArchive.Entry.file("gone.txt", "bye\n")),
        List.of(OciArchive.Entry.file(".wh.gone.txt", ""),
            OciArchive.Entry.file("etc/second", "2\n"))));
    Path archive = Files.write(dir.resolve("layers.tar"), image.archive());
    ctr("images", "import", archive.toString()).requireSuccess("ctr images import (unpack)");
    List<String> ours = ctr("snapshots", "ls").requireSuccess("snapshots").stdout().lines()
        .skip(1).map(l -> l.strip().replaceAll("\\s+", " ")).sorted().toList();

    try (ContainerdProcess containerd = ContainerdProcess.start(dir.resolve("containerd"), ctr)) {
      String socket = containerd.socket().toString();
      Commands.run(COMMAND, List.of(ctr, "--address", socket, "images", "import",
          archive.toString())).requireSuccess("containerd import");
      List<String> theirs = Commands.run(COMMAND, List.of(ctr, "--address", socket,
          "snapshots", "ls")).stdout().lines().skip(1)
          .map(l -> l.strip().replaceAll("\\s+", " ")).sorted().toList();
      assertEquals(2, ours.size(), ours.toString());
      assertEquals(theirs, ours, "the same chain IDs, parents and kinds as containerd's");
    }

    String top = ours.stream().filter(l -> l.split(" ").length == 3).findFirst().orElseThrow()
        .split(" ")[0];
    // jctr's view is a GC root: ctr's is not, and a collection still due from the import
    // would take it before it is mounted, as containerd's would
    jctr("snapshots", "view", "check", top).requireSuccess("view");
    Path mnt = Files.createDirectory(dir.resolve("mnt"));
    for (String line : ctr("snapshots", "mounts", mnt.toString(), "check")
        .requireSuccess("mounts").stdout().lines().toList()) {
      Commands.run(COMMAND, List.of("sh", "-c", line)).requireSuccess(line);
    }
    try {
      assertEquals("hi\n", Files.readString(mnt.resolve("etc/hello")));
      assertEquals("2\n", Files.readString(mnt.resolve("etc/second")));
      assertFalse(Files.exists(mnt.resolve("gone.txt")), "the second layer's whiteout");
    } finally {
      Commands.run(COMMAND, List.of("umount", mnt.toString()));
    }
    ctr("snapshots", "rm", "check").requireSuccess("rm view");
  }

  @Test
  void aLayerThatWouldWriteOutsideIsRefusedAndLeavesNothing(@TempDir Path dir)
      throws Exception {
    OciArchive.Built image = OciArchive.image("local/evil:1", List.of(
        List.of(OciArchive.Entry.file("../../../../tmp/jctr-escaped-" + ProcessHandle.current()
            .pid(), "gotcha"))));
    Path archive = Files.write(dir.resolve("evil.tar"), image.archive());
    List<String> before = ctr("snapshots", "ls").stdout().lines().toList();
    CommandResult refused = ctr("images", "import", archive.toString());
    assertTrue(refused.exitCode() != 0, "the import must fail");
    assertTrue(refused.stderr().contains("refused"), refused.stderr());
    assertFalse(Files.exists(Path.of("/tmp/jctr-escaped-" + ProcessHandle.current().pid())));
    assertEquals(before, ctr("snapshots", "ls").stdout().lines().toList(),
        "no snapshot is left from the failed unpack");
  }

  @Test
  void ctrPullsFromALocalRegistryIntoTheSameChainIdsAsContainerd(@TempDir Path dir)
      throws Exception {
    OciArchive.Built image = OciArchive.image("unused", List.of(
        List.of(OciArchive.Entry.file("bin/", ""), OciArchive.Entry.file("bin/tool", "#!\n")),
        List.of(OciArchive.Entry.file("data.txt", "pulled\n"))));
    try (LocalRegistry registry = LocalRegistry.start(Files.createDirectories(
        dir.resolve("registry")))) {
      String ref = registry.push("test/pulled", "1", image);
      ctr("-n", "pull-ns", "images", "pull", "--plain-http", ref)
          .requireSuccess("ctr images pull against jctrd");
      assertTrue(ctr("-n", "pull-ns", "images", "ls", "-q").stdout().contains(ref));
      List<String> ours = ctr("-n", "pull-ns", "snapshots", "ls").stdout().lines().skip(1)
          .map(l -> l.strip().replaceAll("\\s+", " ")).sorted().toList();
      try (ContainerdProcess containerd = ContainerdProcess.start(dir.resolve("containerd"),
          ctr)) {
        String socket = containerd.socket().toString();
        Commands.run(COMMAND, List.of(ctr, "--address", socket, "-n", "pull-ns", "images",
            "pull", "--plain-http", ref)).requireSuccess("ctr images pull against containerd");
        List<String> theirs = Commands.run(COMMAND, List.of(ctr, "--address", socket, "-n",
            "pull-ns", "snapshots", "ls")).stdout().lines().skip(1)
            .map(l -> l.strip().replaceAll("\\s+", " ")).sorted().toList();
        assertEquals(2, ours.size(), ours.toString());
        assertEquals(theirs, ours);
      }
      assertTrue(ctr("-n", "pull-ns", "content", "ls").stdout().lines().count() >= 5,
          "manifest, config and both layers are in jctrd's content store");
    }
  }

  @Test
  void jctrPullsInTheDaemonWithProgressToTheSameSnapshotsAsCtr(@TempDir Path dir)
      throws Exception {
    OciArchive.Built image = OciArchive.image("unused", List.of(
        List.of(OciArchive.Entry.file("a.txt", "a".repeat(300_000))),
        List.of(OciArchive.Entry.file(".wh.a.txt", ""), OciArchive.Entry.file("b.txt", "b\n")),
        List.of(OciArchive.Entry.file("c.txt", "c\n"))));
    try (LocalRegistry registry = LocalRegistry.start(Files.createDirectories(
        dir.resolve("registry")))) {
      String ref = registry.push("test/server-pull", "1", image);
      CommandResult pulled = jctr("-n", "server-pull", "images", "pull", "--plain-http", ref)
          .requireSuccess("jctr images pull");
      assertTrue(pulled.stdout().contains(image.manifestDigest()), pulled.stdout());
      assertTrue(pulled.stderr().contains("done"), "progress on stderr: " + pulled.stderr());
      ctr("-n", "client-pull", "images", "pull", "--plain-http", ref)
          .requireSuccess("ctr images pull");
      List<String> server = ctr("-n", "server-pull", "snapshots", "ls").stdout().lines()
          .skip(1).map(l -> l.strip().replaceAll("\\s+", " ")).sorted().toList();
      List<String> client = ctr("-n", "client-pull", "snapshots", "ls").stdout().lines()
          .skip(1).map(l -> l.strip().replaceAll("\\s+", " ")).sorted().toList();
      assertEquals(3, server.size(), server.toString());
      assertEquals(client, server, "the daemon's pull unpacks to ctr's chain IDs");
      assertTrue(jctr("-n", "server-pull", "images", "ls").stdout().contains(ref));

      CommandResult again = jctr("-n", "server-pull", "images", "pull", "--plain-http", ref)
          .requireSuccess("pull again");
      assertTrue(again.stderr().contains("exists"), again.stderr());
      CommandResult missing = jctr("-n", "server-pull", "images", "pull", "--plain-http",
          registry.host() + "/test/nothing:1");
      assertTrue(missing.stderr().contains("NOT_FOUND"), missing.stderr());
      CommandResult noTls = jctr("-n", "server-pull", "images", "pull", ref);
      assertTrue(noTls.stderr().contains("--plain-http"), noTls.stderr());
    }
  }

  @Test
  void aMultiPlatformIndexYieldsTheHostsManifestAndDockerSchema2Pulls(@TempDir Path dir)
      throws Exception {
    OciArchive.Built multi = OciArchive.index(java.util.Map.of(
        "amd64", List.of(List.of(OciArchive.Entry.file("arch", "amd64\n"))),
        "arm64", List.of(List.of(OciArchive.Entry.file("arch", "arm64\n")))));
    OciArchive.Built docker = OciArchive.dockerImage("unused", List.of(
        List.of(OciArchive.Entry.file("docker.txt", "schema 2\n"))));
    try (LocalRegistry registry = LocalRegistry.start(Files.createDirectories(
        dir.resolve("registry")))) {
      String multiRef = registry.push("test/multi", "1", multi);
      String dockerRef = registry.push("test/docker", "1", docker);
      jctr("-n", "platforms", "images", "pull", "--plain-http", multiRef)
          .requireSuccess("pull the index");
      String image = jctr("-n", "platforms", "images", "inspect", multiRef).stdout();
      assertTrue(image.contains(multi.manifestDigest()) && image.contains("index"),
          "the record points at the whole index: " + image);
      String top = ctr("-n", "platforms", "snapshots", "ls").stdout().lines().skip(1)
          .findFirst().orElseThrow().strip().split("\\s+")[0];
      jctr("-n", "platforms", "snapshots", "view", "look", top).requireSuccess("view");
      Path mnt = Files.createDirectory(dir.resolve("mnt"));
      for (String line : ctr("-n", "platforms", "snapshots", "mounts", mnt.toString(), "look")
          .requireSuccess("mounts").stdout().lines().toList()) {
        Commands.run(COMMAND, List.of("sh", "-c", line)).requireSuccess(line);
      }
      try {
        assertEquals("amd64\n", Files.readString(mnt.resolve("arch")), "the host's platform");
      } finally {
        Commands.run(COMMAND, List.of("umount", mnt.toString()));
      }
      CommandResult wrong = jctr("-n", "platforms", "images", "pull", "--plain-http",
          "--platform", "linux/s390x", multiRef);
      assertTrue(wrong.stderr().contains("no manifest for linux/s390x")
          && wrong.stderr().contains("linux/arm64"), wrong.stderr());

      jctr("-n", "docker", "images", "pull", "--plain-http", dockerRef)
          .requireSuccess("pull a Docker schema 2 image");
      assertEquals(1, ctr("-n", "docker", "snapshots", "ls").stdout().lines().skip(1).count());

      OciArchive.Built zstd = OciArchive.zstdImage("unused", List.of(
          List.of(OciArchive.Entry.file("z.txt", "zstd layer\n"))));
      String zstdRef = registry.push("test/zstd", "1", zstd);
      jctr("-n", "zstd", "images", "pull", "--plain-http", zstdRef)
          .requireSuccess("jctr pull of a zstd image");
      ctr("-n", "zstd-ctr", "images", "pull", "--plain-http", zstdRef)
          .requireSuccess("ctr pull of a zstd image (Diff.Apply decompresses)");
      assertEquals(ctr("-n", "zstd", "snapshots", "ls").stdout(),
          ctr("-n", "zstd-ctr", "snapshots", "ls").stdout());
    }
  }

  @Test
  void aRegistryWithTokenAuthServesOnlyTheRightCredentials(@TempDir Path dir) throws Exception {
    OciArchive.Built image = OciArchive.image("unused", List.of(
        List.of(OciArchive.Entry.file("secret.txt", "for members\n"))));
    try (TokenServer tokens = TokenServer.start(Files.createDirectories(dir.resolve("tokens")),
        "tester", "s3cret");
        LocalRegistry registry = LocalRegistry.start(Files.createDirectories(
            dir.resolve("registry")), tokens.registryConfig())) {
      String ref = registry.push("private/app", "1", image,
          "Bearer " + tokens.mint("private/app", "tester"));
      CommandResult anonymous = jctr("-n", "auth", "images", "pull", "--plain-http", ref);
      assertTrue(anonymous.exitCode() != 0, "an anonymous token grants nothing");
      assertTrue(anonymous.stderr().contains("unauthorized") || anonymous.stderr()
          .contains("refused"), anonymous.stderr());
      CommandResult wrong = jctr("-n", "auth", "images", "pull", "--plain-http", "--user",
          "tester:nope", ref);
      assertTrue(wrong.exitCode() != 0, wrong.stderr());
      jctr("-n", "auth", "images", "pull", "--plain-http", "--user", "tester:s3cret", ref)
          .requireSuccess("pull with the right credentials");
      assertTrue(jctr("-n", "auth", "images", "ls", "-q").stdout().contains(ref));
      assertTrue(tokens.issued >= 2, "tokens were fetched through the challenge");
    }
  }

  @Test
  void aDownloadCutHalfwayIsResumedNotRestarted(@TempDir Path dir) throws Exception {
    byte[] big = new byte[4 << 20];
    new java.util.Random(7).nextBytes(big);
    OciArchive.Built image = OciArchive.image("unused", List.of(List.of(
        new OciArchive.Entry("big.bin", big, 0644))));
    String layer = image.blobs().keySet().iterator().next();
    try (LocalRegistry registry = LocalRegistry.start(Files.createDirectories(
        dir.resolve("registry")));
        CuttingProxy proxy = CuttingProxy.start(registry.host(), java.util.Set.of(layer))) {
      registry.push("test/flaky", "1", image);
      String ref = proxy.host() + "/test/flaky:1";
      CommandResult first = jctr("-n", "flaky", "images", "pull", "--plain-http", ref);
      assertTrue(first.exitCode() != 0, "the cut download fails the first pull");
      String active = jctr("-n", "flaky", "content", "active").stdout();
      assertTrue(active.contains(layer.substring(7, 19)) || active.contains("layer-"),
          "the partial layer stays as an ingest: " + active);
      jctr("-n", "flaky", "images", "pull", "--plain-http", ref)
          .requireSuccess("the second pull completes");
      assertTrue(proxy.ranges.stream().anyMatch(r -> r.contains(layer) && r.contains("bytes=")
          && !r.endsWith("bytes=0-")), "resumed with a Range request: " + proxy.ranges);
      assertEquals("", jctr("-n", "flaky", "content", "active").stdout().lines().skip(1)
          .reduce("", String::concat), "no ingest left");
    }
  }

  @Test
  void killDashNineDuringAPullThenPullingAgainCompletesIntact(@TempDir Path dir)
      throws Exception {
    byte[] big = new byte[6 << 20];
    new java.util.Random(9).nextBytes(big);
    OciArchive.Built image = OciArchive.image("unused", List.of(
        List.of(new OciArchive.Entry("big.bin", big, 0644)),
        List.of(OciArchive.Entry.file("small.txt", "small\n"))));
    String layer = image.blobs().keySet().iterator().next();
    try (LocalRegistry registry = LocalRegistry.start(Files.createDirectories(
        dir.resolve("registry")));
        CuttingProxy proxy = CuttingProxy.start(registry.host(), java.util.Set.of(),
            java.util.Set.of(layer))) {
      registry.push("test/killed", "1", image);
      String ref = proxy.host() + "/test/killed:1";
      Path daemonDir = Files.createDirectories(dir.resolve("daemon"));
      DaemonProcess victim = DaemonProcess.start(daemonDir).awaitReady(READY);
      String address = victim.socket().toString();
      Process pull = new ProcessBuilder(Distribution.jctr().toString(), "--address", address,
          "-n", "killed", "images", "pull", "--plain-http", ref)
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!jctrAt(address, "-n", "killed", "content", "active").stdout()
          .contains("layer-")) {
        assertTrue(System.nanoTime() < deadline, "the pull never started its layer");
        Thread.sleep(100);
      }
      victim.process().destroyForcibly().waitFor(); // SIGKILL mid-download
      pull.waitFor();
      victim.close();

      try (DaemonProcess again = DaemonProcess.start(daemonDir).awaitReady(READY)) {
        String address2 = again.socket().toString();
        long ready = System.nanoTime() + READY.toNanos();
        while (jctrAt(address2, "images", "ls").exitCode() != 0) {
          assertTrue(System.nanoTime() < ready, "the restarted daemon never served images");
          Thread.sleep(100);
        }
        jctrAt(address2, "-n", "killed", "images", "pull", "--plain-http", ref)
            .requireSuccess("pull after kill -9");
        Path got = dir.resolve("layer.bin");
        Commands.run(COMMAND, List.of("sh", "-c", Distribution.jctr() + " --address "
            + address2 + " -n killed content get " + layer + " > " + got))
            .requireSuccess("read the layer back");
        assertEquals(layer, OciArchive.sha256(Files.readAllBytes(got)), "the blob is intact");
        assertEquals(2, Commands.run(COMMAND, List.of(ctr, "--address", address2, "-n",
            "killed", "snapshots", "ls")).stdout().lines().skip(1).count());
        assertEquals("", jctrAt(address2, "-n", "killed", "content", "active").stdout().lines()
            .skip(1).reduce("", String::concat), "no ingest left over");

        // nothing leaked: the killed pull's lease went at restart, and after a collection the
        // store holds exactly what the image references; without the image, nothing at all
        assertEquals("", jctrAt(address2, "-n", "killed", "leases", "ls", "-q").stdout().strip());
        jctrAt(address2, "gc").requireSuccess("gc");
        Path root = daemonDir.resolve("root");
        Path blobs = root.resolve("io.containerd.content.v1.content/blobs/sha256");
        Path snapshots = root.resolve("io.containerd.snapshotter.v1.overlayfs/snapshots");
        assertEquals(4, count(blobs), "index-less image: manifest, config, 2 layers");
        assertEquals(2, count(snapshots));
        jctrAt(address2, "-n", "killed", "images", "rm", ref).requireSuccess("rm");
        CommandResult gc = jctrAt(address2, "gc").requireSuccess("gc");
        assertEquals(0, count(blobs), "no blob left: " + gc.stdout());
        assertEquals(0, count(snapshots), "no snapshot left: " + gc.stdout());
        assertEquals("", jctrAt(address2, "-n", "killed", "content", "ls", "-q").stdout()
            .strip());
      }
    }
  }

  private static long count(Path dir) throws java.io.IOException {
    try (var entries = Files.list(dir)) {
      return entries.count();
    }
  }

  private static CommandResult jctrAt(String address, String... args) {
    List<String> command = new ArrayList<>(List.of(Distribution.jctr().toString(),
        "--address", address));
    command.addAll(List.of(args));
    return Commands.run(COMMAND, command);
  }

  private static CommandResult ctr(String... args) {
    List<String> command = new ArrayList<>(List.of(ctr, "--address", daemon.socket().toString()));
    command.addAll(List.of(args));
    return Commands.run(COMMAND, command);
  }

  private static CommandResult jctr(String... args) {
    return daemon.jctr(args);
  }
}
