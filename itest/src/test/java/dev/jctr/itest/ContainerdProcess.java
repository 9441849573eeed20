package dev.jctr.itest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Debian's containerd on a temporary root, to compare jctrd with in the same test. */
final class ContainerdProcess implements AutoCloseable {

  private final Process process;
  private final Path socket;

  private ContainerdProcess(Process process, Path socket) {
    this.process = process;
    this.socket = socket;
  }

  static ContainerdProcess start(Path dir, String ctr) throws Exception {
    return start(dir, ctr, null);
  }

  /** With {@code shims} first on its PATH, where it looks for runtime v2 shims. */
  static ContainerdProcess start(Path dir, String ctr, Path shims) throws Exception {
    Files.createDirectories(dir);
    Path config = Files.writeString(dir.resolve("config.toml"), "version = 2\n");
    Path socket = dir.resolve("containerd.sock");
    ProcessBuilder builder = new ProcessBuilder("containerd", "--config", config.toString(),
        "--root", dir.resolve("root").toString(), "--state", dir.resolve("state").toString(),
        "--address", socket.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile());
    if (shims != null) {
      builder.environment().merge("PATH", shims.toString(), (path, first) -> first + ":" + path);
      builder.environment().put("JCTR_SHIM_IDLE_SECONDS", "3");
      builder.environment().put("JCTR_SHIM_RUN", dir.resolve("s").toString());
    }
    Process process = builder.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (Commands.run(Duration.ofSeconds(10), List.of(ctr, "--address", socket.toString(),
        "version")).exitCode() != 0) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new AssertionError("containerd did not start:\n"
            + Files.readString(dir.resolve("log")));
      }
      Thread.sleep(100);
    }
    return new ContainerdProcess(process, socket);
  }

  Path socket() {
    return socket;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    process.waitFor();
  }
}
