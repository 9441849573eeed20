package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * The daemon's ahead-of-time cache (JDK 25): {@code jctrd train --image ARCHIVE} runs a daemon
 * of its own through a kubelet's pod lifecycles (real runc, Debian's CNI bridge) and keeps the
 * classes and compilations of the kernel and the bundles; the run leaves no daemon, shim,
 * mount, bridge, cgroup or directory behind; a second {@code train} finds the cache; bad
 * arguments are refused with the fix.
 */
class DaemonAotCacheProcessTest {

  private static final Pattern REPORT = Pattern.compile("jctrd AOT cache: (\\S+\\.aot): (\\d+)"
      + " methods of the bundles compiled in training, (\\d+) of them naming the CRI's types");

  @TempDir Path dir;

  @Test
  void trainingRunsPodsAndLeavesNothingBehind() throws Exception {
    Commands.requireTool("runc", "runc");
    assertTrue(Files.isExecutable(Path.of("/usr/lib/cni/bridge"))
        || Files.isExecutable(Path.of("/opt/cni/bin/bridge")),
        "the training runs pods on a CNI bridge: apt-get install -y containernetworking-plugins");
    Path pause = Distribution.pauseImage(Files.createDirectories(dir.resolve("image")));
    Path cacheDir = Files.createDirectories(dir.resolve("cache"));
    String jctrd = Distribution.jctrd().toString();

    CommandResult trained = Commands.run(Duration.ofMinutes(4), List.of("env",
        "JCTR_CACHE_DIR=" + cacheDir, jctrd, "train", "--image", pause.toString(), "--pods",
        "8")).requireSuccess("jctrd train");
    Matcher report = REPORT.matcher(trained.stdout());
    assertTrue(report.find(), "train reports its cache: " + trained);
    Path cache = Path.of(report.group(1));
    assertEquals(cacheDir, cache.getParent());
    assertTrue(Files.size(cache) > 10_000_000, "the kernel's and the bundles' classes: " + cache);
    // compilations of the bundles' own methods (Felix's class loaders defined their classes),
    // among them the CRI's pod paths: only a run whose pods started reaches those
    assertTrue(Integer.parseInt(report.group(2)) >= 500, trained.stdout());
    assertTrue(Integer.parseInt(report.group(3)) >= 1, trained.stdout());
    assertTrue(trained.stdout().contains("trained on 8 pods"), trained.stdout());
    try (Stream<Path> files = Files.list(cacheDir)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".training")),
          "no training directory left");
    }
    List<String> left = traces();
    assertTrue(left.isEmpty(), "the training left " + left);

    CommandResult again = Commands.run(Duration.ofSeconds(60), List.of("env",
        "JCTR_CACHE_DIR=" + cacheDir, jctrd, "train", "--image", pause.toString()))
        .requireSuccess("jctrd train, again");
    assertTrue(again.stdout().contains(cache.toString()), again.toString());
    assertFalse(again.stdout().contains("runs"), "no second training: " + again);
  }

  @Test
  void badArgumentsAreRefusedWithTheFix() throws Exception {
    Path cacheDir = Files.createDirectories(dir.resolve("cache"));
    String jctrd = Distribution.jctrd().toString();
    CommandResult noImage = Commands.run(Duration.ofSeconds(30), List.of("env",
        "JCTR_CACHE_DIR=" + cacheDir, jctrd, "train"));
    assertEquals(2, noImage.exitCode(), noImage.toString());
    assertTrue(noImage.stderr().contains("--image ARCHIVE"), noImage.toString());
    CommandResult missing = Commands.run(Duration.ofSeconds(30), List.of("env",
        "JCTR_CACHE_DIR=" + cacheDir, jctrd, "train", "--image", dir.resolve("none.tar")
            .toString()));
    assertEquals(1, missing.exitCode(), missing.toString());
    assertTrue(missing.stderr().contains("no image archive at"), missing.toString());
    CommandResult pods = Commands.run(Duration.ofSeconds(30), List.of("env",
        "JCTR_CACHE_DIR=" + cacheDir, jctrd, "train", "--image", "/dev/null", "--pods", "0"));
    assertEquals(2, pods.exitCode(), pods.toString());
    try (Stream<Path> files = Files.list(cacheDir)) {
      assertEquals(0, files.count(), "nothing made");
    }
  }

  /** What a training run would leave: its directories, mounts, bridges and cgroups. */
  private static List<String> traces() throws Exception {
    List<String> traces = new ArrayList<>();
    try (Stream<Path> temporary = Files.list(Path.of("/tmp"))) {
      temporary.filter(p -> p.getFileName().toString().startsWith("jctrd-training."))
          .forEach(p -> traces.add("directory " + p));
    }
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      if (line.contains("jctrd-training.")) {
        traces.add("mount " + line);
      }
    }
    try (Stream<Path> links = Files.list(Path.of("/sys/class/net"))) {
      links.filter(p -> p.getFileName().toString().startsWith("jctrt"))
          .forEach(p -> traces.add("bridge " + p.getFileName()));
    }
    if (Files.isDirectory(Path.of("/sys/fs/cgroup/jctr-training"))) { // cgroup v2
      traces.add("cgroup /sys/fs/cgroup/jctr-training");
    }
    try (Stream<Path> top = Files.list(Path.of("/sys/fs/cgroup"))) { // v1: per controller
      for (Path entry : top.filter(Files::isDirectory).toList()) {
        if (Files.isDirectory(entry.resolve("jctr-training"))) {
          traces.add("cgroup " + entry.resolve("jctr-training"));
        }
      }
    }
    return traces;
  }
}
