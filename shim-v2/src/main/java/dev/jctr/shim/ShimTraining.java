package dev.jctr.shim;

import dev.jctr.api.proto.containerd.events.TaskCreate;
import dev.jctr.api.proto.containerd.events.TaskExit;
import dev.jctr.api.proto.containerd.events.TaskStart;
import dev.jctr.api.proto.containerd.task.v2.ConnectRequest;
import dev.jctr.api.proto.containerd.task.v2.CreateTaskRequest;
import dev.jctr.api.proto.containerd.task.v2.DeleteRequest;
import dev.jctr.api.proto.containerd.task.v2.KillRequest;
import dev.jctr.api.proto.containerd.task.v2.StartRequest;
import dev.jctr.api.proto.containerd.task.v2.StateRequest;
import dev.jctr.api.proto.containerd.task.v2.WaitRequest;
import dev.jctr.api.proto.containerd.types.Mount;
import dev.jctr.api.ttrpc.TtrpcClient;
import dev.jctr.api.ttrpc.TtrpcException;
import dev.jctr.api.ttrpc.TtrpcServer;
import dev.jctr.runtime.linux.LinuxCalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The training run behind the shim's ahead-of-time cache (JDK 25's AOT cache, made by the
 * launcher script once per JDK and build). A real shim maps the classes this run loaded and
 * linked instead of loading them, and JDK 25 compiles the methods this run compiled as soon as
 * their classes are initialized, from the profiles this run recorded, rather than interpreting
 * them through a pod batch first. So the run does what a shim does for pods: it serves the task
 * service on a temporary socket and calls it as jctrd does, forwarding task events to a
 * stand-in for the daemon. As root with runc on the PATH that is {@link #RUNS} real container
 * lifecycles, four at a time (overlay rootfs, fifos for stdio, runc create, start, state,
 * kill, wait, delete; the container is a read-only view of the host's /usr running sleep, in
 * its own cgroup, without a network namespace); otherwise each call once, answered with an
 * error.
 */
public final class ShimTraining {

  private ShimTraining() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("jctr-shim-training");
    try {
      train(dir);
    } finally {
      deleteTree(dir);
    }
    System.exit(0); // the cache is written at exit
  }

  /** Container lifecycles in a training run: enough for their methods to reach C1. */
  static final int RUNS = 48;
  private static final int PARALLEL = 4;
  private static final AtomicReference<String> FAILURE = new AtomicReference<>();

  private static void train(Path dir) throws Exception {
    LinuxCalls.load();
    boolean real = canRunContainers();
    if (real) {
      LinuxCalls.becomeSubreaper(); // as a shim: container inits are reaped here
    }
    CountDownLatch forwarded = new CountDownLatch(3);
    try (TtrpcServer daemon = new TtrpcServer()) {
      daemon.register("containerd.services.events.ttrpc.v1.Events", "Forward",
          (payload, metadata) -> {
            forwarded.countDown();
            return new byte[0];
          });
      daemon.listen(dir.resolve("events.sock"));
      EventForwarder events = new EventForwarder(dir.resolve("events.sock"), "training");
      TaskService tasks = new TaskService("training", dir.resolve("runc"), "runc", events,
          new TaskService.Idle() {
            @Override
            public void empty() {}

            @Override
            public void busy() {}
          });
      try (TtrpcServer shim = new TtrpcServer()) {
        tasks.register(shim);
        shim.listen(dir.resolve("shim.sock"));
        try (TtrpcClient client = TtrpcClient.connect(dir.resolve("shim.sock"))) {
          if (real) {
            runContainers(client, dir);
            if (FAILURE.get() != null) { // the launcher keeps the cache all the same
              System.err.println("shim training: a container lifecycle failed: "
                  + FAILURE.get());
            }
          } else {
            refusedCalls(client, Files.createDirectories(dir.resolve("bundle")));
          }
        }
      }
      events.publish("/tasks/create", TaskCreate.newBuilder().setContainerId("training")
          .build());
      events.publish("/tasks/start", TaskStart.newBuilder().setContainerId("training").build());
      events.publish("/tasks/exit", TaskExit.newBuilder().setContainerId("training").build());
      forwarded.await(10, TimeUnit.SECONDS);
    }
  }

  private static boolean canRunContainers() throws IOException {
    boolean root = Files.readAllLines(Path.of("/proc/self/status")).stream()
        .anyMatch(line -> line.matches("Uid:\\s+0\\s.*"));
    boolean runc = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
        .filter(entry -> !entry.isEmpty())
        .anyMatch(entry -> Files.isExecutable(Path.of(entry, "runc")));
    return root && runc && Files.isExecutable(Path.of("/usr/bin/sleep"));
  }

  /** {@link #RUNS} lifecycles, {@link #PARALLEL} at a time, each worker with its own fifos. */
  private static void runContainers(TtrpcClient client, Path dir) throws Exception {
    AtomicInteger next = new AtomicInteger();
    try (ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < PARALLEL; w++) {
        Path stdout = dir.resolve("out-" + w);
        Path stderr = dir.resolve("err-" + w);
        LinuxCalls.makeFifo(stdout.toString(), 0600);
        LinuxCalls.makeFifo(stderr.toString(), 0600);
        done.add(workers.submit(() -> {
          for (int run = next.getAndIncrement(); run < RUNS; run = next.getAndIncrement()) {
            lifecycle(client, dir, "training-" + run, stdout, stderr);
          }
          return null;
        }));
      }
      for (Future<?> worker : done) {
        worker.get();
      }
    }
  }

  private static void lifecycle(TtrpcClient client, Path dir, String id, Path stdout,
      Path stderr) throws IOException {
    Path bundle = Files.createDirectories(dir.resolve(id));
    Path lower = Files.createDirectories(bundle.resolve("lower"));
    Files.createDirectories(bundle.resolve("upper"));
    Files.createDirectories(bundle.resolve("work"));
    Files.createDirectories(bundle.resolve("rootfs"));
    for (String mountPoint : List.of("usr", "proc", "dev", "tmp")) {
      Files.createDirectories(lower.resolve(mountPoint));
    }
    // sleep and its libraries: the host's /usr, and /bin, /lib, /lib64 as the host has them
    // (links into /usr on a merged-/usr host, else bound too)
    List<String> binds = new ArrayList<>(List.of("/usr"));
    for (String top : List.of("bin", "lib", "lib64")) {
      Path host = Path.of("/", top);
      if (Files.isSymbolicLink(host)) {
        Files.createSymbolicLink(lower.resolve(top), Files.readSymbolicLink(host));
      } else if (Files.isDirectory(host)) {
        Files.createDirectories(lower.resolve(top));
        binds.add(host.toString());
      }
    }
    Files.writeString(bundle.resolve("config.json"), spec(id, binds));
    Mount rootfs = Mount.newBuilder().setType("overlay").setSource("overlay")
        .addOptions("lowerdir=" + lower).addOptions("upperdir=" + bundle.resolve("upper"))
        .addOptions("workdir=" + bundle.resolve("work")).build();
    if (!call(client, "Create", CreateTaskRequest.newBuilder().setId(id)
        .setBundle(bundle.toString()).addRootfs(rootfs).setStdout(stdout.toString())
        .setStderr(stderr.toString()).build().toByteArray())) {
      return;
    }
    try {
      call(client, "Start", StartRequest.newBuilder().setId(id).build().toByteArray());
      call(client, "State", StateRequest.newBuilder().setId(id).build().toByteArray());
      call(client, "Kill", KillRequest.newBuilder().setId(id).setSignal(9).build()
          .toByteArray());
      call(client, "Wait", WaitRequest.newBuilder().setId(id).build().toByteArray());
    } finally {
      call(client, "Delete", DeleteRequest.newBuilder().setId(id).build().toByteArray());
    }
  }

  /** The OCI spec of a training container: host paths read-only, sleep, no network of its own. */
  private static String spec(String id, List<String> binds) {
    String bindMounts = String.join(",\n", binds.stream().map(path -> """
        {"destination": "%s", "type": "bind", "source": "%s",
         "options": ["rbind", "ro", "nosuid", "nodev"]}""".formatted(path, path)).toList());
    return """
        {"ociVersion": "1.0.2",
         "process": {"user": {"uid": 0, "gid": 0}, "args": ["/usr/bin/sleep", "60"],
          "env": ["PATH=/usr/bin"], "cwd": "/", "noNewPrivileges": true,
          "capabilities": {"bounding": [], "effective": [], "permitted": []}},
         "root": {"path": "rootfs", "readonly": true},
         "hostname": "training",
         "mounts": [
          {"destination": "/proc", "type": "proc", "source": "proc",
           "options": ["nosuid", "noexec", "nodev"]},
          {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
           "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
          {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
           "options": ["nosuid", "nodev", "size=1m"]},
          %s],
         "linux": {"cgroupsPath": "/jctr-shim-training-%d-%s",
          "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
          "maskedPaths": ["/proc/kcore", "/proc/keys"],
          "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]}}
        """.formatted(bindMounts, ProcessHandle.current().pid(), id);
  }

  private static void refusedCalls(TtrpcClient client, Path bundle) throws IOException {
    call(client, "Create", CreateTaskRequest.newBuilder().setId("training")
        .setBundle(bundle.toString()).build().toByteArray());
    call(client, "Connect", ConnectRequest.newBuilder().setId("training").build()
        .toByteArray());
    call(client, "State", StateRequest.newBuilder().setId("training").build().toByteArray());
    call(client, "Start", StartRequest.newBuilder().setId("training").build().toByteArray());
    call(client, "Kill", KillRequest.newBuilder().setId("training").setSignal(9).build()
        .toByteArray());
    call(client, "Wait", WaitRequest.newBuilder().setId("training").build().toByteArray());
    call(client, "Delete", DeleteRequest.newBuilder().setId("training").build()
        .toByteArray());
  }

  /** Calls the shim; a refusal is expected on the error path and reported on the real one. */
  private static boolean call(TtrpcClient client, String method, byte[] request)
      throws IOException {
    try {
      client.call(TaskService.SERVICE, method, request,
          Map.of("containerd-namespace-ttrpc", "training"), Duration.ofSeconds(10));
      return true;
    } catch (TtrpcException refused) {
      FAILURE.compareAndSet(null, method + ": " + refused.getMessage());
      return false;
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
