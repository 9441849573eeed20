package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/** crun for the tests that run containers on it: its presence, and its view of a container. */
final class Crun {

  private Crun() {}

  /**
   * crun's path, or a failure that says why it cannot run here: not installed, or a hybrid
   * cgroup host whose cgroup2 still holds controllers, which crun refuses ("cgroups in hybrid
   * mode not supported").
   */
  static String require() throws IOException {
    String crun = Commands.requireTool("crun", "crun");
    Path controllers = Path.of("/sys/fs/cgroup/unified/cgroup.controllers");
    if (Files.exists(controllers) && !Files.readString(controllers).isBlank()) {
      throw new AssertionError("crun refuses this hybrid cgroup host: cgroup2 at"
          + " /sys/fs/cgroup/unified holds " + Files.readString(controllers).strip()
          + "; run scripts/prepare-cgroups.sh as root (scripts/test.sh does), which mounts"
          + " them as cgroup v1 hierarchies");
    }
    return crun;
  }

  /**
   * crun's own state of container {@code id} under {@code root} says running (with
   * {@code pid}, unless 0). runc keeps a state.json where crun keeps its status file, and
   * neither reads the other's, so the container is crun's.
   */
  static void assertRunning(String crun, Path root, String id, long pid) {
    String state = Commands.run(Duration.ofSeconds(30), List.of(crun, "--root",
        root.toString(), "state", id)).requireSuccess("crun --root " + root + " state " + id)
        .stdout();
    assertTrue(state.matches("(?s).*\"status\"\\s*:\\s*\"running\".*"), state);
    if (pid != 0) {
      assertTrue(state.matches("(?s).*\"pid\"\\s*:\\s*" + pid + "\\b.*"), state);
    }
    assertFalse(Files.exists(root.resolve(id).resolve("state.json")), "runc's state file");
  }

  /**
   * Where jctr's shims of the daemon on {@code dir} (as {@link DaemonProcess#start} lays it
   * out) keep runtime state for namespace {@code ns}:
   * {@code <JCTR_SHIM_RUN>/runc/<daemon key>/<ns>}, JCTR_SHIM_RUN being {@code <state>/s}.
   */
  static Path jctrShimRoot(Path dir, String ns) throws IOException {
    try (Stream<Path> keys = Files.list(dir.resolve("state/s/runc"))) {
      List<Path> roots = keys.map(key -> key.resolve(ns)).filter(Files::isDirectory).toList();
      assertEquals(1, roots.size(), "one runc root for the daemon's shims: " + roots);
      return roots.get(0);
    }
  }
}
