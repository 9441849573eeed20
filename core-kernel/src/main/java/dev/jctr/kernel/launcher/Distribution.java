package dev.jctr.kernel.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.jar.Manifest;

/** Where the running launcher was installed from, and its version. */
final class Distribution {

  private Distribution() {}

  /** The jar the launcher runs from, which is also the kernel bundle. */
  static Path kernelJar() {
    try {
      return Path.of(Jctrd.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException("cannot locate the kernel jar", e);
    }
  }

  /** {@code <dist>/bundles}, beside {@code <dist>/lib} that holds the kernel jar. */
  static Path bundleFolder() {
    return kernelJar().toAbsolutePath().getParent().resolveSibling("bundles");
  }

  static String version() {
    try (InputStream in = Jctrd.class.getResourceAsStream("/META-INF/MANIFEST.MF")) {
      if (in == null) {
        return "unknown";
      }
      var attributes = new Manifest(in).getMainAttributes();
      String version = attributes.getValue("Bundle-Version");
      String revision = attributes.getValue("Jctr-Revision");
      return (version == null ? "unknown" : version)
          + (revision == null || revision.isBlank() ? "" : " (" + revision + ")");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
