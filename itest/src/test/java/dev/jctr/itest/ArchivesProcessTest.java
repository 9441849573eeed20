package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
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
 * {@code jctr images import|export} through the real daemon: OCI image layouts and
 * {@code docker save} archives in, one archive that is both out; Debian's {@code ctr} reads
 * what jctr wrote; hostile archives are refused and leave nothing after a collection.
 */
class ArchivesProcessTest {

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

  private static List<OciArchive.Entry> files(String name, String text) {
    return List.of(OciArchive.Entry.file(name, text));
  }

  @Test
  void anOciLayoutImportsUnpackedAndExportsForCtrAndJctrAlike(@TempDir Path dir)
      throws Exception {
    OciArchive.Built image = OciArchive.image("local/round:1", List.of(
        files("a.txt", "a\n"), files("b.txt", "b\n")));
    Path archive = Files.write(dir.resolve("in.tar"), image.archive());
    CommandResult imported = jctr("-n", "arch", "images", "import", archive.toString())
        .requireSuccess("jctr images import");
    assertTrue(imported.stdout().contains("docker.io/local/round:1 " + image.manifestDigest()),
        imported.stdout());
    assertTrue(imported.stderr().contains("unpacked"), "unpack progress: " + imported.stderr());
    assertEquals(2, jctr("-n", "arch", "snapshots", "ls", "-q").stdout().lines().count(),
        "both layers unpacked");

    Path out = dir.resolve("out.tar");
    jctr("-n", "arch", "images", "export", out.toString(), "docker.io/local/round:1")
        .requireSuccess("jctr images export");
    List<String> members = Commands.run(COMMAND, List.of("tar", "tf", out.toString()))
        .requireSuccess("tar tf").stdout().lines().toList();
    assertTrue(members.containsAll(List.of("oci-layout", "index.json", "manifest.json",
        "blobs/sha256/" + image.manifestDigest().substring(7))), members.toString());
    assertEquals(7, members.size(), "oci-layout, index.json, manifest.json, 4 blobs: " + members);

    // Debian's ctr reads jctr's archive; jctr reads its own back into another namespace
    Commands.run(COMMAND, List.of(ctr, "--address", daemon.socket().toString(), "-n", "ctr",
        "images", "import", out.toString())).requireSuccess("ctr import of jctr's export");
    assertTrue(jctr("-n", "ctr", "images", "ls").stdout().contains(image.manifestDigest()));
    jctr("-n", "again", "images", "import", "--no-unpack", out.toString())
        .requireSuccess("jctr import of jctr's export");
    assertEquals("docker.io/local/round:1", jctr("-n", "again", "images", "ls", "-q").stdout()
        .strip());

    // check: complete and unpacked here, complete but not unpacked there, incomplete once a
    // layer is gone
    String checked = jctr("-n", "arch", "images", "check").requireSuccess("check").stdout();
    assertTrue(checked.contains("complete") && checked.lines().anyMatch(l -> l.endsWith("true")),
        checked);
    String notUnpacked = jctr("-n", "again", "images", "check").requireSuccess("check")
        .stdout();
    assertTrue(notUnpacked.lines().anyMatch(l -> l.contains("complete") && l.endsWith("false")),
        notUnpacked);
    String layer = image.blobs().keySet().iterator().next();
    jctr("-n", "again", "content", "rm", layer).requireSuccess("content rm");
    CommandResult incomplete = jctr("-n", "again", "images", "check");
    assertEquals(1, incomplete.exitCode(), incomplete.stdout());
    assertTrue(incomplete.stdout().contains("incomplete (3/4)"), incomplete.stdout());
  }

  @Test
  void aDockerSaveArchiveImportsWithItsRepoTagsAndUnpacksToItsDiffIds(@TempDir Path dir)
      throws Exception {
    byte[] layer1 = OciArchive.tar(files("one.txt", "1\n"));
    byte[] layer2 = OciArchive.tar(files("two.txt", "2\n"));
    String diff1 = OciArchive.sha256(layer1);
    String diff2 = OciArchive.sha256(layer2);
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":"
        + "{\"type\":\"layers\",\"diff_ids\":[\"" + diff1 + "\",\"" + diff2 + "\"]}}")
        .getBytes(StandardCharsets.UTF_8);
    String configName = OciArchive.sha256(config).substring(7) + ".json";
    byte[] manifest = ("[{\"Config\":\"" + configName + "\",\"RepoTags\":[\"saved:1\","
        + "\"team/saved:2\"],\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]}]")
        .getBytes(StandardCharsets.UTF_8);
    byte[] tar = OciArchive.tar(List.of(
        new OciArchive.Entry(configName, config, 0644),
        new OciArchive.Entry("l1/layer.tar", layer1, 0644),
        new OciArchive.Entry("l2/layer.tar", layer2, 0644),
        new OciArchive.Entry("manifest.json", manifest, 0644)));
    Path archive = Files.write(dir.resolve("saved.tar"), tar);
    jctr("-n", "saved", "images", "import", archive.toString()).requireSuccess("import");
    assertEquals(List.of("docker.io/library/saved:1", "docker.io/team/saved:2"),
        jctr("-n", "saved", "images", "ls", "-q").stdout().lines().sorted().toList());
    String chain2 = OciArchive.sha256((diff1 + " " + diff2).getBytes(StandardCharsets.UTF_8));
    assertEquals(List.of(diff1, chain2), jctr("-n", "saved", "snapshots", "ls", "-q").stdout()
        .lines().sorted((a, b) -> a.equals(diff1) ? -1 : b.equals(diff1) ? 1 : 0).toList(),
        "snapshots named by chain ID");
    // jctr's export of it is a docker save archive again
    Path out = dir.resolve("out.tar");
    jctr("-n", "saved", "images", "export", out.toString(), "docker.io/library/saved:1")
        .requireSuccess("export");
    String dockerManifest = Commands.run(COMMAND, List.of("tar", "xOf", out.toString(),
        "manifest.json")).requireSuccess("manifest.json").stdout();
    assertTrue(dockerManifest.contains("\"RepoTags\":[\"saved:1\"]"), dockerManifest);
  }

  @Test
  void hostileArchivesAreRefusedByNameAndLeaveNothingAfterACollection(@TempDir Path dir)
      throws Exception {
    OciArchive.Built good = OciArchive.image("local/ok:1", List.of(files("ok.txt", "ok\n")));
    byte[] hugeIndex = new byte[5 << 20];
    java.util.Arrays.fill(hugeIndex, (byte) ' ');
    byte[] someBlob = "not what its name says".getBytes(StandardCharsets.UTF_8);
    String wrongName = "blobs/sha256/" + OciArchive.sha256("other".getBytes(
        StandardCharsets.UTF_8)).substring(7);
    List<List<OciArchive.Entry>> hostile = List.of(
        List.of(OciArchive.Entry.file("../escape", "x")),
        List.of(OciArchive.Entry.file("/abs/path", "x")),
        List.of(new OciArchive.Entry(wrongName, someBlob, 0644)),
        List.of(new OciArchive.Entry("index.json", hugeIndex, 0644)),
        List.of(OciArchive.Entry.file("index.json", "{not json")),
        List.of(OciArchive.Entry.file("readme.txt", "no index, no manifest")));
    List<String> expected = List.of("climbs out", "absolute path", "digest", "allowed",
        "not JSON", "not an image archive");
    for (int i = 0; i < hostile.size(); i++) {
      List<OciArchive.Entry> entries = new ArrayList<>();
      // a real image's blobs first, so that a refusal has something to leave behind
      good.blobs().forEach((digest, data) -> entries.add(new OciArchive.Entry("blobs/sha256/"
          + digest.substring(7), data, 0644)));
      entries.addAll(hostile.get(i));
      Path archive = Files.write(dir.resolve("hostile-" + i + ".tar"),
          OciArchive.tar(entries));
      CommandResult refused = jctr("-n", "hostile", "images", "import", archive.toString());
      assertNotEquals(0, refused.exitCode(), "archive " + i + " was accepted");
      assertTrue(refused.stderr().contains(expected.get(i)), i + ": " + refused.stderr());
    }
    assertEquals("", jctr("-n", "hostile", "images", "ls", "-q").stdout().strip());
    jctr("gc").requireSuccess("gc");
    assertEquals("", jctr("-n", "hostile", "content", "ls", "-q").stdout().strip(),
        "no blob of a refused import survives a collection");
    assertEquals("", jctr("-n", "hostile", "content", "active").stdout().lines().skip(1)
        .reduce("", String::concat), "no ingest left");
  }

  private static CommandResult jctr(String... args) {
    return daemon.jctr(args);
  }
}
