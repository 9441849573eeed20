package dev.jctr.tasks.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShimBinaryTest {

  private static Path executable(Path dir, String name) throws Exception {
    Path file = Files.writeString(dir.resolve(name), "#!/bin/sh\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }

  @Test
  void aRuntimeNameResolvesToContainerdsShimBinaryNameOnTheSearchPath(@TempDir Path dir)
      throws Exception {
    Path first = Files.createDirectories(dir.resolve("first"));
    Path second = Files.createDirectories(dir.resolve("second"));
    Path shim = executable(second, "containerd-shim-runc-v2");
    ShimBinary found = ShimBinary.resolve("io.containerd.runc.v2", null, List.of(first, second));
    assertEquals(shim, found.binary());
    assertEquals("io.containerd.runc.v2", found.runtime());
    // the first directory wins
    Path earlier = executable(first, "containerd-shim-runc-v2");
    assertEquals(earlier, ShimBinary.resolve("io.containerd.runc.v2", "",
        List.of(first, second)).binary());
  }

  @Test
  void aMissingBinaryIsNotFoundNamingItAndWhereItWasLookedFor(@TempDir Path dir) {
    NotFoundException missing = assertThrows(NotFoundException.class,
        () -> ShimBinary.resolve("io.containerd.nothere.v1", null, List.of(dir)));
    assertTrue(missing.getMessage().contains("containerd-shim-nothere-v1"), missing.getMessage());
    assertTrue(missing.getMessage().contains(dir.toString()), missing.getMessage());
    assertTrue(missing.getMessage().contains("binary_name"), "names the fix");
  }

  @Test
  void aConfiguredAbsoluteBinaryMustBeExecutable(@TempDir Path dir) throws Exception {
    Path shim = executable(dir, "my-shim");
    assertEquals(shim, ShimBinary.resolve("io.containerd.custom.v2", shim.toString(),
        List.of()).binary());
    assertThrows(NotFoundException.class, () -> ShimBinary.resolve("io.containerd.custom.v2",
        dir.resolve("absent").toString(), List.of()));
  }

  @Test
  void malformedRuntimeNamesAreInvalid() {
    for (String bad : List.of("runc", "io.containerd", "io.containerd.../../x.v2")) {
      assertThrows(InvalidArgumentException.class,
          () -> ShimBinary.resolve(bad, null, List.of()), bad);
    }
  }

  @Test
  void aBundleHoldsTheSpecTheRuntimeRecordAndTheAddressAndGoesAway(@TempDir Path dir) {
    ShimBinary shim = new ShimBinary("io.containerd.runc.v2", Path.of("/usr/bin/shim"));
    Bundle bundle = Bundle.create(dir, "ns1", "c1", "{\"ociVersion\":\"1.1.0\"}".getBytes(),
        shim);
    assertTrue(Files.isDirectory(bundle.rootfs()));
    assertTrue(Files.exists(bundle.dir().resolve("config.json")));
    bundle.writeAddress("unix:///run/x.sock");
    Bundle found = Bundle.all(dir).get(0);
    assertEquals("ns1", found.namespace());
    assertEquals("c1", found.id());
    assertEquals("unix:///run/x.sock", found.address().orElseThrow());
    assertEquals(shim.binary(), found.shim().orElseThrow().binary());
    assertEquals("io.containerd.runc.v2", found.shim().orElseThrow().runtime());
    found.remove();
    assertFalse(Files.exists(bundle.dir()));
    assertFalse(Files.exists(dir.resolve("ns1")), "an emptied namespace directory goes too");
    assertEquals(List.of(), Bundle.all(dir));
  }
}
