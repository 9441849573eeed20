package dev.jctr.cri.io;

import dev.jctr.cri.network.Commands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Named pipes for a process's stdio, made with coreutils' mkfifo. */
public final class Fifos {

  private Fifos() {}

  public static void create(Path... paths) throws IOException {
    for (Path path : paths) {
      Files.createDirectories(path.getParent());
      Files.deleteIfExists(path);
    }
    List<String> command = new java.util.ArrayList<>(List.of("mkfifo", "-m", "0600"));
    for (Path path : paths) {
      command.add(path.toString());
    }
    Commands.check(command);
  }
}
