package dev.jctr.itest;

import java.nio.file.Files;
import java.nio.file.Path;

/** The unpacked distribution under test (built by the distribution module). */
final class Distribution {

  private Distribution() {}

  static Path home() {
    Path home = Path.of(System.getProperty("jctr.dist", "missing-jctr.dist"));
    if (!Files.isExecutable(home.resolve("bin/jctrd"))) {
      throw new AssertionError("no distribution at " + home
          + ": build it first (mvn -pl distribution -am package)");
    }
    return home;
  }

  static Path jctrd() {
    return home().resolve("bin/jctrd");
  }

  static Path jctr() {
    return home().resolve("bin/jctr");
  }

  /** The source tree the distribution was built from. */
  static Path sourceTree() {
    return home().resolve("../../../..").normalize();
  }

  /**
   * docker.io/library/busybox:latest as an OCI archive in {@code dir}, built from Debian's
   * busybox-static by the project's script (no download).
   */
  static Path busyboxImage(Path dir) {
    Path out = dir.resolve("busybox.tar");
    Commands.run(java.time.Duration.ofMinutes(5), java.util.List.of(
        sourceTree().resolve("scripts/build-busybox-image.sh").toString(), out.toString()))
        .requireSuccess("scripts/build-busybox-image.sh");
    return out;
  }

  /** registry.k8s.io/pause:3.10, the pod sandbox image, built the same way. */
  static Path pauseImage(Path dir) {
    Path out = dir.resolve("pause.tar");
    Commands.run(java.time.Duration.ofMinutes(5), java.util.List.of(
        sourceTree().resolve("scripts/build-busybox-image.sh").toString(), out.toString(),
        "--pause")).requireSuccess("scripts/build-busybox-image.sh --pause");
    return out;
  }
}
