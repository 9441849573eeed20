package dev.jctr.diff.tar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.content.Digests;
import dev.jctr.api.diff.LayerApplier;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.mount.Mounts;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layers applied for real (owners, device nodes, trusted xattrs): these tests need root. */
class TarApplierTest {

  private static final String TAR = "application/vnd.oci.image.layer.v1.tar";
  private static final String GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

  @TempDir Path dir;
  private final TarApplier applier = new TarApplier();

  @BeforeAll
  static void requireRoot() throws Exception {
    assertEquals("0", new String(new ProcessBuilder("id", "-u").start().getInputStream()
        .readAllBytes()).strip(), "applying layers sets owners and makes device nodes: run as root");
  }

  /** A tar built entry by entry. */
  private static final class Tar {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream out = new TarArchiveOutputStream(bytes);

    Tar() {
      out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    }

    Tar dir(String name, int mode) throws IOException {
      TarArchiveEntry entry = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
      entry.setMode(040000 | mode);
      out.putArchiveEntry(entry);
      out.closeArchiveEntry();
      return this;
    }

    Tar file(String name, String content, int uid) throws IOException {
      byte[] data = content.getBytes(StandardCharsets.UTF_8);
      TarArchiveEntry entry = new TarArchiveEntry(name, true); // keeps a leading /
      entry.setSize(data.length);
      entry.setMode(0100640);
      entry.setIds(uid, uid);
      out.putArchiveEntry(entry);
      out.write(data);
      out.closeArchiveEntry();
      return this;
    }

    Tar link(String name, String target, byte type) throws IOException {
      TarArchiveEntry entry = new TarArchiveEntry(name, type);
      entry.setLinkName(target);
      out.putArchiveEntry(entry);
      out.closeArchiveEntry();
      return this;
    }

    Tar device(String name, int major, int minor) throws IOException {
      TarArchiveEntry entry = new TarArchiveEntry(name, TarConstants.LF_CHR);
      entry.setDevMajor(major);
      entry.setDevMinor(minor);
      entry.setMode(020666);
      out.putArchiveEntry(entry);
      out.closeArchiveEntry();
      return this;
    }

    byte[] bytes() throws IOException {
      out.close();
      return bytes.toByteArray();
    }
  }

  private static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(data);
    }
    return out.toByteArray();
  }

  private static List<Mount> bind(Path dir) {
    return List.of(new Mount("bind", dir.toString(), List.of("rw", "rbind")));
  }

  @Test
  void aLayerLandsWithOwnersModesLinksDevicesAndItsDiffId() throws IOException {
    Path root = Files.createDirectories(dir.resolve("root"));
    byte[] tar = new Tar().dir("etc", 0755).file("etc/conf", "x=1\n", 1000)
        .link("etc/alias", "conf", TarConstants.LF_SYMLINK)
        .link("etc/hard", "etc/conf", TarConstants.LF_LINK)
        .device("dev-null", 1, 3).file("./dot/slash", "ok", 0).bytes();
    LayerApplier.Applied applied = applier.apply(new ByteArrayInputStream(gzip(tar)), GZIP,
        bind(root));
    assertEquals(Digests.of(tar), applied.diffId(), "the diffID is the uncompressed tar's digest");
    assertEquals(tar.length, applied.size());
    assertEquals("x=1\n", Files.readString(root.resolve("etc/conf")));
    assertEquals(1000, Files.getAttribute(root.resolve("etc/conf"), "unix:uid"));
    assertEquals(0640, (int) Files.getAttribute(root.resolve("etc/conf"), "unix:mode") & 07777);
    assertEquals(Path.of("conf"), Files.readSymbolicLink(root.resolve("etc/alias")));
    assertEquals(Files.getAttribute(root.resolve("etc/conf"), "unix:ino"),
        Files.getAttribute(root.resolve("etc/hard"), "unix:ino"));
    assertEquals((1 << 8) | 3, ((Number) Files.getAttribute(root.resolve("dev-null"),
        "unix:rdev")).intValue() & 0xffff);
    assertEquals("ok", Files.readString(root.resolve("dot/slash")));
  }

  @Test
  void onAnOverlayUpperWhiteoutsBecomeOverlaysOwnAndTheMountHidesThem() throws Exception {
    Path lower = Files.createDirectories(dir.resolve("lower"));
    applier.apply(new ByteArrayInputStream(new Tar().dir("d", 0755).file("d/old", "1", 0)
        .file("d/also", "2", 0).file("gone", "3", 0).bytes()), TAR, bind(lower));
    Path upper = Files.createDirectories(dir.resolve("upper"));
    Path work = Files.createDirectories(dir.resolve("work"));
    Mount overlay = new Mount("overlay", "overlay", List.of("workdir=" + work,
        "upperdir=" + upper, "lowerdir=" + lower));
    applier.apply(new ByteArrayInputStream(new Tar().file(".wh.gone", "", 0)
        .file("d/.wh..wh..opq", "", 0).file("d/new", "4", 0).bytes()), TAR, List.of(overlay));
    assertTrue(Files.getAttribute(upper.resolve("gone"), "isOther", LinkOption.NOFOLLOW_LINKS)
        .equals(Boolean.TRUE), "a character device");
    assertEquals(0, ((Number) Files.getAttribute(upper.resolve("gone"), "unix:rdev")).intValue());

    Path merged = Files.createDirectories(dir.resolve("merged"));
    Mounts.mount(overlay, merged);
    try {
      assertFalse(Files.exists(merged.resolve("gone")), "whiteout hides the lower file");
      try (var children = Files.list(merged.resolve("d"))) {
        assertEquals(List.of("new"), children.map(p -> p.getFileName().toString()).toList(),
            "the opaque directory hides everything below");
      }
    } finally {
      Mounts.unmount(merged);
    }
  }

  @Test
  void nothingLandsOutsideTheRoot() throws IOException {
    Path root = Files.createDirectories(dir.resolve("root"));
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Map<String, byte[]> hostile = Map.of(
        "dot-dot", new Tar().file("../outside/escaped", "x", 0).bytes(),
        "absolute", new Tar().file("/tmp/escaped", "x", 0).bytes(),
        "symlink-out", new Tar().link("out", "../outside", TarConstants.LF_SYMLINK)
            .file("out/escaped", "x", 0).bytes(),
        "hard-link-out", new Tar().link("h", "../outside/secret", TarConstants.LF_LINK).bytes(),
        "deep-symlink-out", new Tar().dir("a", 0755)
            .link("a/up", "../../outside", TarConstants.LF_SYMLINK)
            .file("a/up/escaped", "x", 0).bytes());
    for (var tar : hostile.entrySet()) {
      InvalidArgumentException refused = assertThrows(InvalidArgumentException.class,
          () -> applier.apply(new ByteArrayInputStream(tar.getValue()), TAR, bind(root)),
          tar.getKey());
      assertTrue(refused.getMessage().contains("refused"), refused.getMessage());
    }
    try (var left = Files.list(outside)) {
      assertEquals(0, left.count(), "nothing was written outside the root");
    }
    // an absolute symlink is read inside the root, as a chroot would: it stays in
    applier.apply(new ByteArrayInputStream(new Tar().link("etc", "/real-etc",
        TarConstants.LF_SYMLINK).dir("real-etc", 0755).file("etc/passwd", "root:x:0:0", 0)
        .bytes()), TAR, bind(root));
    assertEquals("root:x:0:0", Files.readString(root.resolve("real-etc/passwd")));
  }

  @Test
  void zstdLayersApplyWithTheirDiffId() throws IOException {
    Path root = Files.createDirectories(dir.resolve("zstd"));
    byte[] tar = new Tar().file("z.txt", "zstd!", 0).bytes();
    ByteArrayOutputStream compressed = new ByteArrayOutputStream();
    try (var zstd = new com.github.luben.zstd.ZstdOutputStream(compressed)) {
      zstd.write(tar);
    }
    LayerApplier.Applied applied = applier.apply(new ByteArrayInputStream(
        compressed.toByteArray()), "application/vnd.oci.image.layer.v1.tar+zstd", bind(root));
    assertEquals(Digests.of(tar), applied.diffId());
    assertEquals("zstd!", Files.readString(root.resolve("z.txt")));
  }

  @Test
  void readOnlyMountsAndUnknownMediaTypesAreRefused() {
    assertThrows(InvalidArgumentException.class, () -> applier.apply(
        new ByteArrayInputStream(new byte[0]), TAR,
        List.of(new Mount("bind", dir.toString(), List.of("ro", "rbind")))));
    assertThrows(InvalidArgumentException.class, () -> applier.apply(
        new ByteArrayInputStream(new byte[0]), "application/json", bind(dir)));
  }
}
