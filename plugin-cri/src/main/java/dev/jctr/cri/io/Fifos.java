package dev.jctr.cri.io;

import dev.jctr.api.host.LinuxHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Named pipes for a process's stdio (mode 0600), replacing whatever is at their paths. */
public final class Fifos {

  private Fifos() {}

  public static void create(LinuxHost host, Path... paths) throws IOException {
    for (Path path : paths) {
      Files.createDirectories(path.getParent());
      try {
        host.makeFifo(path);
      } catch (RuntimeException e) {
        throw new IOException(e.getMessage(), e);
      }
    }
  }
}
