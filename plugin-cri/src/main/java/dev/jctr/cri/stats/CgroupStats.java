package dev.jctr.cri.stats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * CPU and memory figures of a cgroup (cgroupfs path as in the OCI spec's cgroupsPath), read
 * from the cgroup files: v1's cpuacct and memory controllers, or v2's unified files.
 */
public final class CgroupStats {

  /** One sample. */
  public record Sample(long timestampNanos, long cpuUsageNanos, long memoryUsage,
      long workingSet, long rss, long available, long pageFaults, long majorPageFaults) {}

  private final Path root;
  private final boolean unified;

  public CgroupStats(Path root) {
    this.root = root;
    this.unified = Files.exists(root.resolve("cgroup.controllers"));
  }

  public static CgroupStats host() {
    return new CgroupStats(Path.of("/sys/fs/cgroup"));
  }

  /** The cgroup's figures, or empty when it does not exist (the task is gone). */
  public Optional<Sample> sample(String cgroupsPath) {
    String relative = cgroupsPath.startsWith("/") ? cgroupsPath.substring(1) : cgroupsPath;
    try {
      long now = System.currentTimeMillis() * 1_000_000L;
      if (unified) {
        Path dir = root.resolve(relative);
        if (!Files.isDirectory(dir)) {
          return Optional.empty();
        }
        long cpu = keyed(dir.resolve("cpu.stat")).getOrDefault("usage_usec", 0L) * 1000;
        long usage = number(dir.resolve("memory.current"));
        Map<String, Long> memory = keyed(dir.resolve("memory.stat"));
        long limit = number(dir.resolve("memory.max"));
        return Optional.of(sample(now, cpu, usage, memory.getOrDefault("inactive_file", 0L),
            memory.getOrDefault("anon", 0L), limit, memory.getOrDefault("pgfault", 0L),
            memory.getOrDefault("pgmajfault", 0L)));
      }
      Path cpuDir = root.resolve("cpuacct").resolve(relative);
      Path memoryDir = root.resolve("memory").resolve(relative);
      if (!Files.isDirectory(memoryDir)) {
        return Optional.empty();
      }
      long cpu = Files.isDirectory(cpuDir) ? number(cpuDir.resolve("cpuacct.usage")) : 0;
      long usage = number(memoryDir.resolve("memory.usage_in_bytes"));
      Map<String, Long> memory = keyed(memoryDir.resolve("memory.stat"));
      long limit = number(memoryDir.resolve("memory.limit_in_bytes"));
      return Optional.of(sample(now, cpu, usage, memory.getOrDefault("total_inactive_file", 0L),
          memory.getOrDefault("total_rss", 0L), limit, memory.getOrDefault("total_pgfault", 0L),
          memory.getOrDefault("total_pgmajfault", 0L)));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static Sample sample(long now, long cpu, long usage, long inactiveFile, long rss,
      long limit, long faults, long majorFaults) {
    long workingSet = Math.max(0, usage - inactiveFile);
    // "no limit" is a huge number in v1 and "max" in v2: nothing sensible to subtract from
    long available = limit <= 0 || limit >= (1L << 60) ? 0 : Math.max(0, limit - workingSet);
    return new Sample(now, cpu, usage, workingSet, rss, available, faults, majorFaults);
  }

  private static long number(Path file) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    String text = Files.readString(file).strip();
    return text.equals("max") ? Long.MAX_VALUE : Long.parseLong(text);
  }

  private static Map<String, Long> keyed(Path file) throws IOException {
    Map<String, Long> values = new HashMap<>();
    if (!Files.exists(file)) {
      return values;
    }
    for (String line : Files.readAllLines(file)) {
      String[] parts = line.split(" ");
      if (parts.length == 2) {
        try {
          values.put(parts[0], Long.parseLong(parts[1]));
        } catch (NumberFormatException e) {
          // not a counter
        }
      }
    }
    return values;
  }
}
