import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Start-up, idle memory and CLI round-trip figures for jctrd beside containerd. Each daemon runs
 * on its own temporary root, state and socket; nothing under /var/lib or /run is touched.
 * Run through bench/bench.sh, which finds the JDK and builds the distribution if needed.
 */
public final class StartupBench {

  /** One daemon under measurement: how to start it, and which CLI asks it for its version. */
  record Subject(String name, List<String> startCommand, Path socket, List<String> versionCommand) {}

  record Sample(double readyMillis, long rssKib, long pssKib) {}

  public static void main(String[] args) throws Exception {
    Path dist = Path.of(args[0]).toAbsolutePath();
    int starts = Integer.parseInt(args[1]);
    int calls = Integer.parseInt(args[2]);
    Path work = Files.createTempDirectory("jctr-bench-");
    try {
      List<Subject> subjects = List.of(jctrd(dist, work), containerd(work));
      System.out.printf("%-11s %14s %14s %12s %12s %14s %14s%n", "daemon", "ready p50 ms",
          "ready max ms", "idle RSS MiB", "idle PSS MiB", "version p50 ms", "version p90 ms");
      for (Subject subject : subjects) {
        report(subject, starts, calls);
      }
      System.out.println("(" + starts + " starts and " + calls + " CLI calls each; "
          + Runtime.getRuntime().availableProcessors() + " CPUs; java " + Runtime.version() + ")");
    } finally {
      deleteTree(work);
    }
  }

  private static Subject jctrd(Path dist, Path work) {
    Path dir = work.resolve("jctrd");
    Path socket = dir.resolve("jctrd.sock");
    return new Subject("jctrd",
        List.of(dist.resolve("bin/jctrd").toString(), "--root", dir.resolve("root").toString(),
            "--state", dir.resolve("state").toString(), "--address", socket.toString(),
            "--log-level", "warn"),
        socket,
        List.of(dist.resolve("bin/jctr").toString(), "--address", socket.toString(), "version"));
  }

  private static Subject containerd(Path work) throws IOException {
    Path dir = work.resolve("containerd");
    Files.createDirectories(dir);
    Path socket = dir.resolve("containerd.sock");
    Path config = dir.resolve("config.toml");
    Files.writeString(config, "version = 2\n");
    return new Subject("containerd",
        List.of(which("containerd"), "--config", config.toString(),
            "--root", dir.resolve("root").toString(), "--state", dir.resolve("state").toString(),
            "--address", socket.toString(), "--log-level", "warn"),
        socket,
        List.of(which("ctr"), "--address", socket.toString(), "version"));
  }

  private static void report(Subject subject, int starts, int calls) throws Exception {
    List<Double> ready = new ArrayList<>();
    List<Long> rss = new ArrayList<>();
    List<Long> pss = new ArrayList<>();
    List<Double> versions = new ArrayList<>();
    for (int i = 0; i < starts; i++) {
      Process daemon = null;
      try {
        long start = System.nanoTime();
        daemon = new ProcessBuilder(subject.startCommand())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
        awaitSocket(daemon, subject);
        ready.add((System.nanoTime() - start) / 1e6);
        if (i == starts - 1) {
          for (int c = 0; c < calls; c++) {
            versions.add(timeCommand(subject.versionCommand()));
          }
        }
        Thread.sleep(2000); // idle
        rss.add(statusKib(daemon.pid(), "/proc/%d/status", "VmRSS:"));
        pss.add(statusKib(daemon.pid(), "/proc/%d/smaps_rollup", "Pss:"));
      } finally {
        stop(daemon);
      }
    }
    System.out.printf("%-11s %14.0f %14.0f %12.1f %12.1f %14.0f %14.0f%n", subject.name(),
        percentile(ready, 50), percentile(ready, 100), median(rss) / 1024.0,
        median(pss) / 1024.0, percentile(versions, 50), percentile(versions, 90));
  }

  private static void awaitSocket(Process daemon, Subject subject) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (!daemon.isAlive()) {
        throw new IllegalStateException(subject.name() + " exited with " + daemon.exitValue());
      }
      if (accepts(subject.socket())) {
        return;
      }
      Thread.sleep(2);
    }
    throw new IllegalStateException(subject.name() + " socket not ready in 30 s");
  }

  private static boolean accepts(Path socket) {
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static double timeCommand(List<String> command) throws Exception {
    long start = System.nanoTime();
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException("failed: " + command);
    }
    return (System.nanoTime() - start) / 1e6;
  }

  private static long statusKib(long pid, String pathFormat, String key) throws IOException {
    for (String line : Files.readAllLines(Path.of(String.format(pathFormat, pid)))) {
      if (line.startsWith(key)) {
        return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
      }
    }
    return -1;
  }

  private static void stop(Process daemon) throws InterruptedException {
    if (daemon == null || !daemon.isAlive()) {
      return;
    }
    daemon.destroy();
    if (!daemon.waitFor(20, TimeUnit.SECONDS)) {
      daemon.destroyForcibly().waitFor();
    }
  }

  private static double percentile(List<Double> values, int p) {
    List<Double> sorted = values.stream().sorted().toList();
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(index, sorted.size() - 1)));
  }

  private static long median(List<Long> values) {
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  private static String which(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path candidate = Path.of(dir, tool);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new IllegalStateException(tool + " not found: apt-get install -y containerd");
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
