package dev.jctr.cri.stats;

import dev.jctr.api.proto.cri.v1.ContainerAttributes;
import dev.jctr.api.proto.cri.v1.ContainerStats;
import dev.jctr.api.proto.cri.v1.CpuUsage;
import dev.jctr.api.proto.cri.v1.FilesystemIdentifier;
import dev.jctr.api.proto.cri.v1.FilesystemUsage;
import dev.jctr.api.proto.cri.v1.LinuxPodSandboxStats;
import dev.jctr.api.proto.cri.v1.MemoryUsage;
import dev.jctr.api.proto.cri.v1.NetworkInterfaceUsage;
import dev.jctr.api.proto.cri.v1.NetworkUsage;
import dev.jctr.api.proto.cri.v1.PodSandboxAttributes;
import dev.jctr.api.proto.cri.v1.PodSandboxStats;
import dev.jctr.api.proto.cri.v1.ProcessUsage;
import dev.jctr.api.proto.cri.v1.UInt64Value;
import dev.jctr.cri.store.CriContainer;
import dev.jctr.cri.store.PodSandbox;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * ContainerStats and PodSandboxStats from cgroups: CPU time and memory from the cgroup files,
 * CPU rate from the previous sample of the same cgroup, network from the pod's interfaces as
 * its pause process sees them, the writable layer from the snapshotter's usage.
 */
public final class StatsCollector {

  /** The size of a container's writable layer: bytes and inodes, or empty. */
  public interface LayerUsage {
    Optional<long[]> of(String containerId);
  }

  private final CgroupStats cgroups;
  private final Path snapshotRoot;
  private final Map<String, CgroupStats.Sample> previous = new ConcurrentHashMap<>();

  public StatsCollector(CgroupStats cgroups, Path snapshotRoot) {
    this.cgroups = cgroups;
    this.snapshotRoot = snapshotRoot;
  }

  public ContainerStats container(CriContainer container, String cgroupsPath,
      LayerUsage layers) {
    ContainerStats.Builder stats = ContainerStats.newBuilder().setAttributes(ContainerAttributes
        .newBuilder().setId(container.id()).setMetadata(container.config().getMetadata())
        .putAllLabels(container.config().getLabelsMap())
        .putAllAnnotations(container.config().getAnnotationsMap()));
    cgroups.sample(cgroupsPath).ifPresent(sample -> {
      stats.setCpu(cpu(cgroupsPath, sample));
      stats.setMemory(memory(sample));
    });
    long now = System.currentTimeMillis() * 1_000_000L;
    FilesystemUsage.Builder layer = FilesystemUsage.newBuilder().setTimestamp(now)
        .setFsId(FilesystemIdentifier.newBuilder().setMountpoint(snapshotRoot.toString()));
    layers.of(container.id()).ifPresent(usage -> layer.setUsedBytes(u64(usage[0]))
        .setInodesUsed(u64(usage[1])));
    stats.setWritableLayer(layer);
    return stats.build();
  }

  public PodSandboxStats sandbox(PodSandbox sandbox, List<ContainerStats> containers,
      String pauseCgroup) {
    LinuxPodSandboxStats.Builder linux = LinuxPodSandboxStats.newBuilder()
        .addAllContainers(containers);
    // the pod's own cgroup when the kubelet gave one, else pause plus containers
    String podCgroup = sandbox.cgroupParent().equals("/k8s.io") ? null : sandbox.cgroupParent();
    Optional<CgroupStats.Sample> pod = podCgroup == null ? Optional.empty()
        : cgroups.sample(podCgroup);
    if (pod.isPresent()) {
      linux.setCpu(cpu(podCgroup, pod.get()));
      linux.setMemory(memory(pod.get()));
    } else {
      Optional<CgroupStats.Sample> pause = cgroups.sample(pauseCgroup);
      long cpu = pause.map(CgroupStats.Sample::cpuUsageNanos).orElse(0L);
      long usage = pause.map(CgroupStats.Sample::memoryUsage).orElse(0L);
      long workingSet = pause.map(CgroupStats.Sample::workingSet).orElse(0L);
      long rate = 0;
      for (ContainerStats c : containers) {
        cpu += c.getCpu().getUsageCoreNanoSeconds().getValue();
        rate += c.getCpu().getUsageNanoCores().getValue();
        usage += c.getMemory().getUsageBytes().getValue();
        workingSet += c.getMemory().getWorkingSetBytes().getValue();
      }
      long now = System.currentTimeMillis() * 1_000_000L;
      linux.setCpu(CpuUsage.newBuilder().setTimestamp(now).setUsageCoreNanoSeconds(u64(cpu))
          .setUsageNanoCores(u64(rate)));
      linux.setMemory(MemoryUsage.newBuilder().setTimestamp(now).setUsageBytes(u64(usage))
          .setWorkingSetBytes(u64(workingSet)));
    }
    if (sandbox.pid() > 0) {
      network(sandbox.pid()).ifPresent(linux::setNetwork);
      processes(pauseCgroup, podCgroup).ifPresent(linux::setProcess);
    }
    return PodSandboxStats.newBuilder().setAttributes(PodSandboxAttributes.newBuilder()
        .setId(sandbox.id()).setMetadata(sandbox.config().getMetadata())
        .putAllLabels(sandbox.config().getLabelsMap())
        .putAllAnnotations(sandbox.config().getAnnotationsMap())).setLinux(linux).build();
  }

  private CpuUsage cpu(String key, CgroupStats.Sample sample) {
    CpuUsage.Builder cpu = CpuUsage.newBuilder().setTimestamp(sample.timestampNanos())
        .setUsageCoreNanoSeconds(u64(sample.cpuUsageNanos()));
    CgroupStats.Sample before = previous.put(key, sample);
    if (before != null && sample.timestampNanos() > before.timestampNanos()) {
      long rate = (sample.cpuUsageNanos() - before.cpuUsageNanos()) * 1_000_000_000L
          / (sample.timestampNanos() - before.timestampNanos());
      cpu.setUsageNanoCores(u64(Math.max(0, rate)));
    }
    return cpu.build();
  }

  private static MemoryUsage memory(CgroupStats.Sample sample) {
    return MemoryUsage.newBuilder().setTimestamp(sample.timestampNanos())
        .setWorkingSetBytes(u64(sample.workingSet())).setAvailableBytes(u64(sample.available()))
        .setUsageBytes(u64(sample.memoryUsage())).setRssBytes(u64(sample.rss()))
        .setPageFaults(u64(sample.pageFaults()))
        .setMajorPageFaults(u64(sample.majorPageFaults())).build();
  }

  /** The pod's interfaces as its pause process sees them: /proc/<pid>/net/dev. */
  private static Optional<NetworkUsage> network(int pid) {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/" + pid + "/net/dev"));
      NetworkUsage.Builder usage = NetworkUsage.newBuilder()
          .setTimestamp(System.currentTimeMillis() * 1_000_000L);
      for (String line : lines.subList(Math.min(2, lines.size()), lines.size())) {
        String[] parts = line.trim().split("[:\\s]+");
        if (parts.length < 17 || parts[0].equals("lo")) {
          continue;
        }
        NetworkInterfaceUsage iface = NetworkInterfaceUsage.newBuilder().setName(parts[0])
            .setRxBytes(u64(Long.parseLong(parts[1]))).setRxErrors(u64(Long.parseLong(parts[3])))
            .setTxBytes(u64(Long.parseLong(parts[9])))
            .setTxErrors(u64(Long.parseLong(parts[11]))).build();
        usage.addInterfaces(iface);
        if (parts[0].equals("eth0")) {
          usage.setDefaultInterface(iface);
        }
      }
      return Optional.of(usage.build());
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static Optional<ProcessUsage> processes(String pauseCgroup, String podCgroup) {
    String path = podCgroup != null ? podCgroup : pauseCgroup;
    Path v1 = Path.of("/sys/fs/cgroup/pids").resolve(path.substring(1)).resolve("pids.current");
    Path v2 = Path.of("/sys/fs/cgroup").resolve(path.substring(1)).resolve("pids.current");
    for (Path file : List.of(v1, v2)) {
      try {
        if (Files.exists(file)) {
          return Optional.of(ProcessUsage.newBuilder()
              .setTimestamp(System.currentTimeMillis() * 1_000_000L)
              .setProcessCount(u64(Long.parseLong(Files.readString(file).strip()))).build());
        }
      } catch (IOException | RuntimeException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private static UInt64Value u64(long value) {
    return UInt64Value.newBuilder().setValue(value).build();
  }
}
