package dev.jctr.cri.network;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * A pod's network namespace, pinned by a bind mount on a file so that it outlives its
 * processes (and the daemon): {@code <dir>/cni-<uuid>}, as containerd names them.
 */
public final class NetworkNamespace {

  private NetworkNamespace() {}

  /** Creates a new, empty network namespace pinned at a new file under {@code dir}. */
  public static Path create(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path path = dir.resolve("cni-" + UUID.randomUUID());
    Files.createFile(path);
    try {
      // util-linux unshare: a new netns, bind-mounted on the file, then `true` exits
      Commands.check(List.of("unshare", "--net=" + path, "true"));
    } catch (IOException e) {
      Files.deleteIfExists(path);
      throw new IOException("cannot create a network namespace at " + path + ": "
          + e.getMessage(), e);
    }
    return path;
  }

  /** Unpins and deletes {@code path}; a path already gone is fine. */
  public static void remove(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    if (isMounted(path)) {
      Commands.check(List.of("umount", path.toString()));
    }
    Files.deleteIfExists(path);
  }

  public static boolean isMounted(Path path) throws IOException {
    String target = " " + path.toAbsolutePath() + " ";
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .anyMatch(line -> line.contains(target));
  }
}
