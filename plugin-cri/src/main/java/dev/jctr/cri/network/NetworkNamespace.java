package dev.jctr.cri.network;

import dev.jctr.api.host.LinuxHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * A pod's network namespace, pinned by a bind mount on a file so that it outlives its
 * processes (and the daemon): {@code <dir>/cni-<uuid>}, as containerd names them.
 */
public final class NetworkNamespace {

  private NetworkNamespace() {}

  /** Creates a new, empty network namespace pinned at a new file under {@code dir}. */
  public static Path create(LinuxHost host, Path dir) throws IOException {
    Files.createDirectories(dir);
    Path path = dir.resolve("cni-" + UUID.randomUUID());
    try {
      host.pinNewNetworkNamespace(path);
    } catch (RuntimeException e) {
      throw new IOException("cannot create a network namespace at " + path + ": "
          + e.getMessage(), e);
    }
    return path;
  }

  /** Unpins and deletes {@code path}; a path already gone is fine. */
  public static void remove(LinuxHost host, Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    while (host.unmount(path)) {
      // a pin mounted twice comes off one mount at a time
    }
    Files.deleteIfExists(path);
  }
}
