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
}
