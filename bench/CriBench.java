import dev.jctr.api.proto.cri.v1.ContainerConfig;
import dev.jctr.api.proto.cri.v1.ContainerMetadata;
import dev.jctr.api.proto.cri.v1.CreateContainerRequest;
import dev.jctr.api.proto.cri.v1.ImageSpec;
import dev.jctr.api.proto.cri.v1.LinuxContainerConfig;
import dev.jctr.api.proto.cri.v1.LinuxContainerSecurityContext;
import dev.jctr.api.proto.cri.v1.LinuxPodSandboxConfig;
import dev.jctr.api.proto.cri.v1.ListPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.PodSandboxConfig;
import dev.jctr.api.proto.cri.v1.PodSandboxMetadata;
import dev.jctr.api.proto.cri.v1.RemovePodSandboxRequest;
import dev.jctr.api.proto.cri.v1.RunPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.RuntimeServiceGrpc;
import dev.jctr.api.proto.cri.v1.StartContainerRequest;
import dev.jctr.api.proto.cri.v1.StatusRequest;
import dev.jctr.api.proto.cri.v1.StopPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.VersionRequest;
import dev.jctr.cli.transport.GrpcConnection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The CRI pod-start benchmark's client, for jctrd and containerd alike: {@code start} runs N
 * pods (RunPodSandbox, CreateContainer, StartContainer of one busybox container each) from P
 * kubelet-like workers at once and prints the batch's total time and the per-pod p50/p99;
 * {@code teardown} stops and removes every pod; {@code register} asks for Version and Status,
 * as a kubelet does when it registers its node, before any pod. Each worker has its own
 * connection.
 * Usage: java -cp "$dist/lib/cli/*" bench/CriBench.java start|teardown SOCKET N P LOGDIR IMAGE
 *        java -cp "$dist/lib/cli/*" bench/CriBench.java register SOCKET
 */
public class CriBench {

  private static final long TIMEOUT = TimeUnit.MINUTES.toNanos(5);
  /**
   * What the kubelet sends for a container that is not privileged (its default proc mount):
   * both daemons then mask the same paths (with none sent, containerd masks none and jctr its
   * defaults, and runc's work differs).
   */
  private static final LinuxContainerSecurityContext KUBELET_DEFAULTS =
      LinuxContainerSecurityContext.newBuilder()
          .addAllMaskedPaths(List.of("/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
              "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
              "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
              "/sys/devices/virtual/powercap"))
          .addAllReadonlyPaths(List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
              "/proc/sysrq-trigger"))
          .build();

  public static void main(String[] args) throws Exception {
    Path socket = Path.of(args[1]);
    if (args[0].equals("register")) {
      GrpcConnection kubelet = GrpcConnection.open(socket);
      kubelet.unary(RuntimeServiceGrpc.getVersionMethod(), VersionRequest.newBuilder()
          .setVersion("v1").build(), Map.of(), TIMEOUT);
      kubelet.unary(RuntimeServiceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance(),
          Map.of(), TIMEOUT);
      kubelet.close();
      return;
    }
    int pods = Integer.parseInt(args[2]);
    int workers = Integer.parseInt(args[3]);
    Path logs = Path.of(args[4]);
    String image = args[5];
    ThreadLocal<GrpcConnection> connection = ThreadLocal.withInitial(() ->
        GrpcConnection.open(socket));
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    if (args[0].equals("teardown")) {
      GrpcConnection lister = GrpcConnection.open(socket);
      var items = lister.unary(RuntimeServiceGrpc.getListPodSandboxMethod(),
          ListPodSandboxRequest.getDefaultInstance(), Map.of(), TIMEOUT).getItemsList();
      lister.close();
      long t0 = System.nanoTime();
      List<Future<?>> done = new ArrayList<>();
      java.util.concurrent.atomic.AtomicInteger retried =
          new java.util.concurrent.atomic.AtomicInteger();
      for (var pod : items) {
        done.add(pool.submit(() -> {
          GrpcConnection c = connection.get();
          // a kubelet retries a failed stop or remove; so does this, once, saying why
          for (int attempt = 0; ; attempt++) {
            try {
              c.unary(RuntimeServiceGrpc.getStopPodSandboxMethod(), StopPodSandboxRequest
                  .newBuilder().setPodSandboxId(pod.getId()).build(), Map.of(), TIMEOUT);
              c.unary(RuntimeServiceGrpc.getRemovePodSandboxMethod(), RemovePodSandboxRequest
                  .newBuilder().setPodSandboxId(pod.getId()).build(), Map.of(), TIMEOUT);
              return null;
            } catch (RuntimeException e) {
              if (attempt > 0) {
                throw e;
              }
              retried.incrementAndGet();
              System.err.println("teardown of pod " + pod.getMetadata().getName()
                  + " failed, retrying: " + e);
              Thread.sleep(1000);
            }
          }
        }));
      }
      int failed = 0;
      for (Future<?> f : done) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          if (failed++ == 0) {
            System.err.println("pod teardown failed: " + e.getCause());
          }
        }
      }
      System.out.printf("teardown of %d pods: %d ms (%d retried, %d failed)%n", items.size(),
          (System.nanoTime() - t0) / 1_000_000, retried.get(), failed);
      pool.shutdownNow();
      if (failed > 0) {
        System.exit(1);
      }
      return;
    }
    List<Long> times = Collections.synchronizedList(new ArrayList<>());
    List<long[]> phases = Collections.synchronizedList(new ArrayList<>());
    List<Future<?>> done = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < pods; i++) {
      int n = i;
      done.add(pool.submit(() -> {
        long start = System.nanoTime();
        GrpcConnection c = connection.get();
        PodSandboxConfig pod = PodSandboxConfig.newBuilder()
            .setMetadata(PodSandboxMetadata.newBuilder().setName("bench-" + n)
                .setNamespace("bench").setUid("bench-uid-" + n))
            .setHostname("bench-" + n).setLogDirectory(logs.resolve("pod-" + n).toString())
            .setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent("/jctr-bench/pod" + n))
            .build();
        String id = c.unary(RuntimeServiceGrpc.getRunPodSandboxMethod(), RunPodSandboxRequest
            .newBuilder().setConfig(pod).build(), Map.of(), TIMEOUT).getPodSandboxId();
        long ran = System.nanoTime();
        String container = c.unary(RuntimeServiceGrpc.getCreateContainerMethod(),
            CreateContainerRequest.newBuilder().setPodSandboxId(id).setSandboxConfig(pod)
                .setConfig(ContainerConfig.newBuilder()
                    .setMetadata(ContainerMetadata.newBuilder().setName("app"))
                    .setImage(ImageSpec.newBuilder().setImage(image))
                    .addCommand("sleep").addCommand("3600").setLogPath("app/0.log")
                    .setLinux(LinuxContainerConfig.newBuilder()
                        .setSecurityContext(KUBELET_DEFAULTS)))
                .build(), Map.of(), TIMEOUT).getContainerId();
        long created = System.nanoTime();
        c.unary(RuntimeServiceGrpc.getStartContainerMethod(), StartContainerRequest.newBuilder()
            .setContainerId(container).build(), Map.of(), TIMEOUT);
        long started = System.nanoTime();
        times.add((started - start) / 1_000_000);
        phases.add(new long[] {(ran - start) / 1_000_000, (created - ran) / 1_000_000,
            (started - created) / 1_000_000});
        return null;
      }));
    }
    int failed = 0;
    for (Future<?> f : done) {
      try {
        f.get();
      } catch (java.util.concurrent.ExecutionException e) {
        if (failed++ == 0) {
          System.err.println("pod start failed: " + e.getCause());
        }
      }
    }
    long total = (System.nanoTime() - t0) / 1_000_000;
    pool.shutdownNow();
    List<Long> sorted = new ArrayList<>(times);
    Collections.sort(sorted);
    long p50 = sorted.isEmpty() ? 0 : sorted.get((sorted.size() - 1) / 2);
    long p99 = sorted.isEmpty() ? 0 : sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1);
    System.out.printf("%d pods (%d failed), %d workers: total %d ms  per pod p50 %d ms"
        + "  p99 %d ms%n", pods, failed, workers, total, p50, p99);
    System.out.printf("%12s per pod p50 of RunPodSandbox %d ms, CreateContainer %d ms,"
        + " StartContainer %d ms%n", "", p50(phases, 0), p50(phases, 1), p50(phases, 2));
    int first = Math.min(workers, times.size());
    System.out.printf("%12s first %d pods started: mean %d ms (%s); the rest: mean %d ms (%s)%n",
        "", first, (long) times.subList(0, first).stream().mapToLong(Long::longValue)
            .average().orElse(0), phaseMeans(phases.subList(0, first)),
        (long) times.subList(first, times.size()).stream().mapToLong(Long::longValue)
            .average().orElse(0), phaseMeans(phases.subList(first, phases.size())));
    System.out.printf("%12s per pod p90 of RunPodSandbox %d ms, CreateContainer %d ms,"
        + " StartContainer %d ms%n", "", percentile(phases, 0, 0.9),
        percentile(phases, 1, 0.9), percentile(phases, 2, 0.9));
    if (failed > 0) {
      System.exit(1);
    }
  }

  /** Mean RunPodSandbox / CreateContainer / StartContainer times of {@code phases}. */
  private static String phaseMeans(List<long[]> phases) {
    long[] sum = new long[3];
    for (long[] p : phases) {
      for (int i = 0; i < 3; i++) {
        sum[i] += p[i];
      }
    }
    int n = Math.max(1, phases.size());
    return sum[0] / n + " + " + sum[1] / n + " + " + sum[2] / n;
  }

  private static long p50(List<long[]> phases, int phase) {
    return percentile(phases, phase, 0.5);
  }

  private static long percentile(List<long[]> phases, int phase, double fraction) {
    List<Long> sorted = new ArrayList<>();
    for (long[] p : phases) {
      sorted.add(p[phase]);
    }
    Collections.sort(sorted);
    return sorted.isEmpty() ? 0
        : sorted.get(Math.max(0, (int) Math.ceil(sorted.size() * fraction) - 1));
  }
}
