package dev.jctr.itest;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A jctrd started from the distribution on temporary directories, stopped (by its pid, with
 * SIGTERM, then SIGKILL) when closed. Its log goes to a file the failure messages include.
 */
final class DaemonProcess implements AutoCloseable {

  private final Process process;
  private final Path socket;
  private final Path log;

  private DaemonProcess(Process process, Path socket, Path log) {
    this.process = process;
    this.socket = socket;
    this.log = log;
  }

  /** Starts jctrd with root, state and socket under {@code dir}, plus any extra flags. */
  static DaemonProcess start(Path dir, String... extraArgs) throws IOException {
    Path socket = dir.resolve("run/jctrd.sock");
    List<String> command = new ArrayList<>(List.of(Distribution.jctrd().toString(),
        "--root", dir.resolve("root").toString(),
        "--state", dir.resolve("state").toString(),
        "--address", socket.toString()));
    command.addAll(List.of(extraArgs));
    return launch(command, socket, dir.resolve("jctrd-" + System.nanoTime() + ".log"));
  }

  static DaemonProcess launch(List<String> command, Path socket, Path log) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    // jctr's shims wait for the next task of their group; in tests, not for long
    builder.environment().put("JCTR_SHIM_IDLE_SECONDS", "3");
    Process process = builder.start();
    return new DaemonProcess(process, socket, log);
  }

  /** Waits until the socket accepts connections; fails with the daemon's log otherwise. */
  DaemonProcess awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("jctrd exited with " + process.exitValue() + " before its socket"
            + " was ready\n" + log());
      }
      if (accepts(socket)) {
        return this;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("jctrd socket " + socket + " not ready after " + timeout + "\n" + log());
  }

  /** Runs {@code jctr --address <this daemon> args...} (60 s at most). */
  CommandResult jctr(String... args) {
    // fifos of detached tasks under the test's directory, not the machine's /run/jctr
    List<String> command = new ArrayList<>(List.of("env", "JCTR_FIFO_DIR="
        + socket.getParent().resolveSibling("fifo"), Distribution.jctr().toString(),
        "--address", socket.toString()));
    command.addAll(List.of(args));
    return Commands.run(Duration.ofSeconds(60), command);
  }

  /**
   * Waits until {@code jctr probe...} succeeds: the socket accepts before every service is
   * registered.
   */
  DaemonProcess awaitServing(Duration timeout, String... probe) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (jctr(probe).exitCode() != 0) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("jctrd never served `jctr " + String.join(" ", probe) + "`");
      }
      Thread.sleep(100);
    }
    return this;
  }

  Path socket() {
    return socket;
  }

  Process process() {
    return process;
  }

  String log() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  static boolean accepts(Path socket) {
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** SIGKILL, as a crash would: no shutdown hook runs. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      throw new AssertionError("jctrd survived SIGKILL for 10 s");
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (!process.isAlive()) {
      return;
    }
    process.destroy(); // SIGTERM: the daemon's shutdown hook stops the framework
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      throw new AssertionError("jctrd did not stop within 20 s of SIGTERM\n" + log());
    }
  }
}
