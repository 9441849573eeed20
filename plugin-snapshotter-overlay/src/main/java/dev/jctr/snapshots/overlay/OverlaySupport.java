package dev.jctr.snapshots.overlay;

import dev.jctr.api.mount.Mount;
import dev.jctr.api.mount.Mounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What this host's overlayfs needs and can do, checked once at activation. */
final class OverlaySupport {

  private OverlaySupport() {}

  /**
   * Why overlay cannot work under {@code root}, or null when a real overlay mount with two
   * lower layers, an upper and a work directory succeeds there.
   */
  static String unsupportedReason(Path root) {
    Path check = null;
    try {
      Files.createDirectories(root);
      check = Files.createTempDirectory(root, "overlay-check-");
      for (String dir : List.of("lower1", "lower2", "upper", "work", "merged")) {
        Files.createDirectory(check.resolve(dir));
      }
      List<String> options = new ArrayList<>(List.of(
          "workdir=" + check.resolve("work"), "upperdir=" + check.resolve("upper"),
          "lowerdir=" + check.resolve("lower1") + ":" + check.resolve("lower2")));
      options.addAll(extraOptions());
      Mounts.mount(new Mount("overlay", "overlay", options), check.resolve("merged"));
      Mounts.unmount(check.resolve("merged"));
      return null;
    } catch (IOException e) {
      return "overlayfs does not work under " + root + ": " + e.getMessage();
    } finally {
      if (check != null) {
        deleteTree(check);
      }
    }
  }

  /** Options containerd adds to every overlay mount on such a host. */
  static List<String> extraOptions() {
    List<String> options = new ArrayList<>();
    if (Files.exists(Path.of("/sys/module/overlay/parameters/index"))) {
      options.add("index=off");
    }
    return options;
  }

  private static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException ignored) {
          // a leftover check directory is harmless
        }
      });
    } catch (IOException ignored) {
      // as above
    }
  }
}
