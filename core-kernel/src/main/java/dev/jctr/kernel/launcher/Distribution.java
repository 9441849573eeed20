package dev.jctr.kernel.launcher;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
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

  /** {@code <dist>/bundles}: the nearest {@code bundles} folder above the kernel jar. */
  static Path bundleFolder() {
    Path jarDir = kernelJar().toAbsolutePath().getParent();
    for (Path dir = jarDir; dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("bundles"))) {
        return dir.resolve("bundles");
      }
    }
    return jarDir.resolveSibling("bundles");
  }

  /** Bundle-Version and revision from the kernel jar's own manifest. */
  static String version() {
    try (JarFile jar = new JarFile(kernelJar().toFile())) {
      Manifest manifest = jar.getManifest();
      if (manifest == null) {
        return "unknown";
      }
      var attributes = manifest.getMainAttributes();
      String version = attributes.getValue("Bundle-Version");
      String revision = attributes.getValue("Jctr-Revision");
      return (version == null ? "unknown" : version)
          + (revision == null || revision.isBlank() ? "" : " (" + revision + ")");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
