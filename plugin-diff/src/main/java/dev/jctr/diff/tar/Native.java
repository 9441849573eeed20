package dev.jctr.diff.tar;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * What the JDK cannot do to a file: make device nodes and set extended attributes outside the
 * {@code user.} namespace. Done by mknod(1) and setfattr(1); layers have few such entries.
 */
final class Native {

  private Native() {}

  static void setXattr(Path target, String name, String value) throws IOException {
    run(List.of("setfattr", "-h", "-n", name, "-v", value, target.toString()),
        "set " + name + " on " + target);
  }

  static void run(List<String> command, String what) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (process.waitFor() != 0) {
        throw new IOException(what + " failed: " + output.strip().replaceAll("\\s+", " "));
      }
    } catch (InterruptedException e) {
      process.destroy();
      Thread.currentThread().interrupt();
      throw new IOException(what + " was interrupted", e);
    }
  }
}
