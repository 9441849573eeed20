package dev.jctr.tasks.shim;

import dev.jctr.api.errors.FailedPreconditionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Small host commands (mkfifo, umount) whose failure is the caller's error, with their output. */
final class Commands {

  private Commands() {}

  static void run(List<String> command) {
    String what = String.join(" ", command);
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(),
          StandardCharsets.UTF_8);
      if (process.waitFor() != 0) {
        throw new FailedPreconditionException(what + ": " + output.strip());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(what + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FailedPreconditionException(what + ": interrupted");
    }
  }
}
