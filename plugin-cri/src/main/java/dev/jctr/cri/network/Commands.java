package dev.jctr.cri.network;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a host command with optional stdin and environment, collecting its output. */
public final class Commands {

  /** A finished command. */
  public record Result(int exit, String stdout, String stderr) {}

  private Commands() {}

  public static Result run(List<String> command, Map<String, String> env, byte[] stdin,
      long timeoutSeconds) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    Process process = builder.start();
    CompletableFuture<String> out = drain(process.getInputStream());
    CompletableFuture<String> err = drain(process.getErrorStream());
    try (var in = process.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin);
      }
    } catch (IOException e) {
      // a command that does not read its stdin closes the pipe early: not an error
    }
    try {
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(command.get(0) + " did not finish in " + timeoutSeconds + " s");
      }
      return new Result(process.exitValue(), out.join(), err.join());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + command.get(0), e);
    }
  }

  /** Runs a command that must succeed; its stderr is the failure's message. */
  public static String check(List<String> command) throws IOException {
    Result result = run(command, Map.of(), null, 60);
    if (result.exit() != 0) {
      throw new IOException(String.join(" ", command) + " failed (exit " + result.exit()
          + "): " + result.stderr().strip());
    }
    return result.stdout();
  }

  private static CompletableFuture<String> drain(InputStream stream) {
    CompletableFuture<String> text = new CompletableFuture<>();
    Thread.ofPlatform().daemon().start(() -> {
      try (stream) {
        text.complete(new String(stream.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        text.complete("");
      }
    });
    return text;
  }
}
