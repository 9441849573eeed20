package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shim's ahead-of-time cache (JDK 25): {@code containerd-shim-jctr-v2 train} makes it from a
 * training run of real container lifecycles (runc, overlay rootfs, cgroups), so that a shim
 * starts with the task service's methods compiled; the run leaves no container, mount, cgroup
 * or directory behind; a second {@code train} finds the cache made.
 */
class ShimAotCacheProcessTest {

  private static final Pattern REPORT = Pattern.compile("shim AOT cache: (\\S+\\.aot): (\\d+)"
      + " methods of jctr compiled in training, (\\d+) of them the task service's");

  @TempDir Path cacheDir;

  @Test
  void trainingRunsRealContainersAndLeavesNothingBehind() throws Exception {
    Commands.requireTool("runc", "runc");
    assertTrue(Files.readAllLines(Path.of("/proc/self/status")).stream()
        .anyMatch(line -> line.matches("Uid:\\s+0\\s.*")),
        "the shim's training runs containers: run these tests as root");
    String shim = Distribution.home().resolve("bin/containerd-shim-jctr-v2").toString();

    CommandResult trained = Commands.run(Duration.ofMinutes(3),
        List.of("env", "JCTR_CACHE_DIR=" + cacheDir, shim, "train")).requireSuccess("train");
    Matcher report = REPORT.matcher(trained.stdout());
    assertTrue(report.find(), "train reports its cache: " + trained);
    Path cache = Path.of(report.group(1));
    assertEquals(cacheDir, cache.getParent());
    assertTrue(Files.size(cache) > 1_000_000, "a cache of the shim's classes: " + cache);
    assertTrue(Integer.parseInt(report.group(2)) >= 100, trained.stdout());
    // the task service's methods are compiled in training only when its containers really run
    // (each call 48 times); a training whose calls all fail reaches each of them once
    assertTrue(Integer.parseInt(report.group(3)) >= 3, trained.stdout());
    try (Stream<Path> files = Files.list(cacheDir)) {
      assertEquals(List.of(cache), files.toList(), "only the cache, no training left");
    }
    awaitNoTrainingLeft();

    CommandResult again = Commands.run(Duration.ofSeconds(30),
        List.of("env", "JCTR_CACHE_DIR=" + cacheDir, shim, "train")).requireSuccess("train");
    assertTrue(again.stdout().contains(cache.toString()), again.toString());
  }

  /**
   * No training container's mount, cgroup or directory remains. A shim start elsewhere on the
   * machine may be training meanwhile (the first start of an installation does): its traces
   * are given 30 s to go.
   */
  private static void awaitNoTrainingLeft() throws Exception {
    List<String> left = List.of();
    for (int attempt = 0; attempt < 60; attempt++) {
      left = trainingTraces();
      if (left.isEmpty()) {
        return;
      }
      Thread.sleep(500);
    }
    throw new AssertionError("the shim's training left " + left);
  }

  private static List<String> trainingTraces() throws IOException {
    List<String> traces = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      if (line.contains("jctr-shim-training")) {
        traces.add("mount " + line);
      }
    }
    // cgroup v2: /sys/fs/cgroup/<group>; v1: /sys/fs/cgroup/<controller>/<group>
    try (Stream<Path> top = Files.list(Path.of("/sys/fs/cgroup"))) {
      for (Path entry : top.filter(Files::isDirectory).toList()) {
        if (entry.getFileName().toString().startsWith("jctr-shim-training")) {
          traces.add("cgroup " + entry);
          continue;
        }
        try (Stream<Path> groups = Files.list(entry)) {
          groups.filter(g -> g.getFileName().toString().startsWith("jctr-shim-training"))
              .forEach(g -> traces.add("cgroup " + g));
        }
      }
    }
    try (Stream<Path> temporary = Files.list(Path.of("/tmp"))) { // the training JVM's tmpdir
      temporary.filter(p -> p.getFileName().toString().startsWith("jctr-shim-training"))
          .forEach(p -> traces.add("directory " + p));
    }
    return traces;
  }
}
