import dev.jctr.itest.LocalRegistry;
import dev.jctr.itest.OciArchive;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Pull and unpack of a locally built 8-layer image from Debian's docker-registry, jctrd beside
 * containerd in the same run: cold (fresh daemon, empty store) and warm (the daemon pulled an
 * image of the same shape first). Run through bench/pull-bench.sh.
 */
public final class PullBench {

  private static final int LAYERS = 8;

  public static void main(String[] args) throws Exception {
    Path dist = Path.of(args[0]).toAbsolutePath();
    int rounds = Integer.parseInt(args[1]);
    int layerMiB = Integer.parseInt(args[2]);
    Path work = Files.createTempDirectory("jctr-pull-bench-");
    try (LocalRegistry registry = LocalRegistry.start(Files.createDirectories(
        work.resolve("registry")))) {
      List<String> refs = new ArrayList<>();
      for (int image = 0; image < 2 * rounds + 1; image++) {
        refs.add(registry.push("bench/image" + image, "1", build(image, layerMiB)));
      }
      System.out.printf("image: %d layers of %d MiB (random, gzip), %d images pushed%n",
          LAYERS, layerMiB, refs.size());
      List<Double> jctrdCold = new ArrayList<>();
      List<Double> jctrdWarm = new ArrayList<>();
      List<Double> containerdCold = new ArrayList<>();
      List<Double> containerdWarm = new ArrayList<>();
      for (int round = 0; round < rounds; round++) {
        String cold = refs.get(2 * round);
        String warm = refs.get(2 * round + 1);
        double[] j = jctrd(dist, work.resolve("jctrd-" + round), cold, warm);
        jctrdCold.add(j[0]);
        jctrdWarm.add(j[1]);
        double[] c = containerd(work.resolve("containerd-" + round), cold, warm);
        containerdCold.add(c[0]);
        containerdWarm.add(c[1]);
      }
      System.out.printf("%-11s %14s %14s%n", "daemon", "cold p50 s", "warm p50 s");
      System.out.printf("%-11s %14.2f %14.2f%n", "jctrd", p50(jctrdCold), p50(jctrdWarm));
      System.out.printf("%-11s %14.2f %14.2f%n", "containerd", p50(containerdCold),
          p50(containerdWarm));
      System.out.printf("ratio jctrd/containerd: cold %.2f, warm %.2f (target: <= 1)%n",
          p50(jctrdCold) / p50(containerdCold), p50(jctrdWarm) / p50(containerdWarm));
      System.out.printf("(%d rounds, %d CPUs, java %s)%n", rounds,
          Runtime.getRuntime().availableProcessors(), Runtime.version());
    } finally {
      if (TRACE) {
        try (var logs = Files.walk(work)) {
          for (Path log : logs.filter(p -> p.getFileName().toString().equals("jctrd.log"))
              .toList()) {
            Files.readAllLines(log).stream().filter(l -> l.contains("unpack sha256"))
                .forEach(l -> System.out.println("jctrd: " + l));
          }
        }
      }
      deleteTree(work);
    }
  }

  private static OciArchive.Built build(int seed, int layerMiB) throws Exception {
    Random random = new Random(seed);
    List<List<OciArchive.Entry>> layers = new ArrayList<>();
    for (int i = 0; i < LAYERS; i++) {
      byte[] data = new byte[layerMiB << 20];
      random.nextBytes(data);
      layers.add(List.of(new OciArchive.Entry("layer" + i + ".bin", data, 0644)));
    }
    return OciArchive.image("bench", layers);
  }

  private static double[] jctrd(Path dist, Path dir, String cold, String warm) throws Exception {
    Path socket = dir.resolve("jctrd.sock");
    Process daemon = new ProcessBuilder(dist.resolve("bin/jctrd").toString(), "--root",
        dir.resolve("root").toString(), "--state", dir.resolve("state").toString(),
        "--address", socket.toString(), "--log-level", TRACE ? "debug" : "warn")
        .redirectErrorStream(true).redirectOutput(TRACE
            ? ProcessBuilder.Redirect.to(Files.createDirectories(dir).resolve("jctrd.log")
                .toFile())
            : ProcessBuilder.Redirect.DISCARD).start();
    try {
      List<String> jctr = List.of(dist.resolve("bin/jctr").toString(), "--address",
          socket.toString(), "--timeout", "600", "images", "pull", "--plain-http");
      awaitReady(List.of(dist.resolve("bin/jctr").toString(), "--address", socket.toString(),
          "images", "ls"));
      return new double[] {time(with(jctr, cold)), time(with(jctr, warm))};
    } finally {
      stop(daemon);
    }
  }

  private static double[] containerd(Path dir, String cold, String warm) throws Exception {
    Files.createDirectories(dir);
    Path config = Files.writeString(dir.resolve("config.toml"), "version = 2\n");
    Path socket = dir.resolve("containerd.sock");
    Process daemon = new ProcessBuilder("containerd", "--config", config.toString(), "--root",
        dir.resolve("root").toString(), "--state", dir.resolve("state").toString(),
        "--address", socket.toString(), "--log-level", "warn")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      List<String> ctr = List.of("ctr", "--address", socket.toString(), "images", "pull",
          "--plain-http");
      awaitReady(List.of("ctr", "--address", socket.toString(), "images", "ls"));
      return new double[] {time(with(ctr, cold)), time(with(ctr, warm))};
    } finally {
      stop(daemon);
    }
  }

  private static List<String> with(List<String> command, String ref) {
    List<String> full = new ArrayList<>(command);
    full.add(ref);
    return full;
  }

  private static void awaitReady(List<String> probe) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (new ProcessBuilder(probe).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() != 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("daemon not ready: " + probe);
      }
      Thread.sleep(100);
    }
  }

  /** PULL_BENCH_TRACE=1 prints each progress line of the clients with its time. */
  private static final boolean TRACE = "1".equals(System.getenv("PULL_BENCH_TRACE"));

  private static double time(List<String> command) throws Exception {
    long start = System.nanoTime();
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(TRACE ? ProcessBuilder.Redirect.PIPE : ProcessBuilder.Redirect.DISCARD)
        .start();
    if (TRACE) {
      System.out.println("trace: " + String.join(" ", command));
      try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(
          process.getInputStream()))) {
        String line;
        while ((line = lines.readLine()) != null) {
          System.out.printf("  %7.3f s  %s%n", (System.nanoTime() - start) / 1e9, line);
        }
      }
    }
    if (!process.waitFor(600, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException("failed: " + command);
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private static void stop(Process daemon) throws InterruptedException {
    daemon.destroy();
    if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
      daemon.destroyForcibly().waitFor();
    }
  }

  private static double p50(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  private static void deleteTree(Path dir) throws Exception {
    // snapshots may hold read-only files; the directories are ours
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
