package dev.jctr.cri;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.FieldMask;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.events.EventExchange;
import dev.jctr.api.events.EventSink;
import dev.jctr.api.events.Subscription;
import dev.jctr.api.host.LinuxHost;
import dev.jctr.api.proto.containerd.events.TaskExit;
import dev.jctr.api.proto.containerd.events.TaskOOM;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.DeleteContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.GetContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.UpdateContainerRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.CreateRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.DeleteRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.DeleteResourceRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.Resource;
import dev.jctr.api.proto.containerd.services.snapshots.v1.MountsRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.PrepareSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.RemoveSnapshotRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.CreateTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.DeleteProcessRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.DeleteTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ExecProcessRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.GetRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.KillRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.StartRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.UpdateTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.WaitRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.WaitResponse;
import dev.jctr.api.proto.containerd.types.Envelope;
import dev.jctr.api.proto.containerd.types.Mount;
import dev.jctr.api.proto.containerd.types.task.Process;
import dev.jctr.api.proto.cri.v1.ContainerConfig;
import dev.jctr.api.proto.cri.v1.ContainerEventType;
import dev.jctr.api.proto.cri.v1.ContainerState;
import dev.jctr.api.proto.cri.v1.LinuxContainerResources;
import dev.jctr.api.proto.cri.v1.PodSandboxConfig;
import dev.jctr.api.proto.cri.v1.PodSandboxMetadata;
import dev.jctr.api.proto.cri.v1.PodSandboxState;
import dev.jctr.api.proto.cri.v1.PortMapping;
import dev.jctr.api.typeurl.TypeUrls;
import dev.jctr.cri.io.ContainerLogger;
import dev.jctr.cri.io.Fifos;
import dev.jctr.cri.network.CniNetwork;
import dev.jctr.cri.network.NetworkNamespace;
import dev.jctr.cri.spec.ImageUsers;
import dev.jctr.cri.spec.OomScores;
import dev.jctr.cri.spec.PodSpecs;
import dev.jctr.cri.store.CriContainer;
import dev.jctr.cri.store.PodSandbox;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Pods and their containers, as the CRI runs them: each pod a pause container in its own
 * network namespace (set up by CNI), each container a containerd container and task in
 * namespace {@code k8s.io} whose annotations group it with its pod's shim. All containerd work
 * goes through the daemon's own API ({@link LocalApi}); what the CRI adds (configs, states,
 * exit codes, log copying) is kept here and in small files under the plugin's directories.
 */
final class PodManager implements AutoCloseable {

  private static final Logger LOG = System.getLogger(PodManager.class.getName());
  static final String NAMESPACE = CriImages.NAMESPACE;
  static final String KIND_LABEL = "io.cri-containerd.kind";
  private static final String PROCESS_TYPE =
      "types.containerd.io/opencontainers/runtime-spec/1/Process";
  private static final String RESOURCES_TYPE =
      "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";
  private static final int SIGKILL = 9;
  private static final long EXEC_OUTPUT_LIMIT = 16L << 20;

  private final LocalApi api;
  private final CriImages images;
  private final CriPuller puller;
  private final LinuxHost host;
  private final CriConfig config;
  private final CniNetwork network;
  private final PodSpecs specs;
  private final ContainerEvents events;
  private final Path rootDir;
  private final Path stateDir;
  private final Map<String, PodSandbox> sandboxes = new ConcurrentHashMap<>();
  private final Map<String, CriContainer> containers = new ConcurrentHashMap<>();
  /** Reserved names (sandbox and container names share the map, as ids do): name to id. */
  private final Map<String, String> names = new ConcurrentHashMap<>();
  private final Map<String, ContainerLogger> loggers = new ConcurrentHashMap<>();
  private final Set<String> oomKilled = ConcurrentHashMap.newKeySet();
  private final SecureRandom random = new SecureRandom();
  private final CountDownLatch restored = new CountDownLatch(1);
  private final Subscription exits;

  PodManager(LocalApi api, CriImages images, CriPuller puller, CriConfig config,
      EventExchange exchange, LinuxHost host, Path rootDir, Path stateDir,
      ContainerEvents events) {
    this.api = api;
    this.host = host;
    this.images = images;
    this.puller = puller;
    this.config = config;
    this.rootDir = rootDir;
    this.stateDir = stateDir;
    this.events = events;
    this.network = new CniNetwork(config.cniConfDir(), config.cniBinDirs(),
        stateDir.resolve("cni"), host);
    this.specs = new PodSpecs(OomScores.ofThisProcess());
    this.exits = exchange.subscribe(List.of(
        "namespace==" + NAMESPACE + ",topic==\"/tasks/exit\"",
        "namespace==" + NAMESPACE + ",topic==\"/tasks/oom\""), new EventSink() {
          @Override
          public void deliver(Envelope envelope) {
            Thread.ofVirtual().start(() -> onTaskEvent(envelope));
          }

          @Override
          public void overflowed(long dropped) {
            LOG.log(Level.ERROR, "CRI lost " + dropped + " task events; container states may"
                + " be stale until the daemon restarts");
          }
        });
  }

  CniNetwork network() {
    return network;
  }

  CriConfig config() {
    return config;
  }

  // ---------------------------------------------------------------- restore

  /** Reloads pods and containers a previous run left; runs once the tasks service answers. */
  void restore() {
    try {
      try {
        renewCreatingLease();
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "cannot renew lease " + CREATING_LEASE + ": " + e.getMessage());
      }
      for (Path dir : dirs(rootDir.resolve("sandboxes"))) {
        try {
          PodSandbox sandbox = PodSandbox.load(dir);
          Optional<Process> task = task(sandbox.id(), true);
          if (task.isPresent() && task.get().getStatusValue() == 2) { // RUNNING
            sandbox.pid(task.get().getPid());
            sandbox.state(PodSandboxState.SANDBOX_READY);
          } else {
            sandbox.state(PodSandboxState.SANDBOX_NOTREADY);
            task.ifPresent(t -> deleteTask(sandbox.id()));
          }
          sandbox.save();
          sandboxes.put(sandbox.id(), sandbox);
          names.put(sandbox.name(), sandbox.id());
        } catch (IOException | RuntimeException e) {
          LOG.log(Level.WARNING, "cannot restore pod sandbox from " + dir + ": " + e.getMessage());
        }
      }
      for (Path dir : dirs(rootDir.resolve("containers"))) {
        try {
          CriContainer container = CriContainer.load(dir);
          if (container.state() == ContainerState.CONTAINER_RUNNING) {
            Optional<Process> task = task(container.id(), true);
            if (task.isPresent() && task.get().getStatusValue() == 2) {
              startLogger(container, false);
            } else if (task.isPresent()) {
              container.finished(task.get().getExitStatus(),
                  nanos(task.get().getExitedAt()), reason(container.id(),
                      task.get().getExitStatus()), "");
              deleteTask(container.id());
            } else {
              container.finished(255, System.currentTimeMillis() * 1_000_000L, "Unknown",
                  "the container's task was gone when the daemon restarted");
            }
            container.save();
          }
          containers.put(container.id(), container);
          names.put(container.name(), container.id());
        } catch (IOException | RuntimeException e) {
          LOG.log(Level.WARNING, "cannot restore container from " + dir + ": " + e.getMessage());
        }
      }
      LOG.log(Level.INFO, "CRI restored " + sandboxes.size() + " pod sandboxes and "
          + containers.size() + " containers");
    } finally {
      restored.countDown();
    }
  }

  private void awaitRestore() {
    try {
      if (!restored.await(60, TimeUnit.SECONDS)) {
        throw new StatusRuntimeException(Status.UNAVAILABLE.withDescription(
            "the CRI is still restoring its pods; try again"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StatusRuntimeException(Status.CANCELLED);
    }
  }

  private static List<Path> dirs(Path parent) {
    if (!Files.isDirectory(parent)) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(parent)) {
      return list.filter(Files::isDirectory).sorted().toList();
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot list " + parent + ": " + e.getMessage());
      return List.of();
    }
  }

  // ---------------------------------------------------------------- sandboxes

  String runPodSandbox(PodSandboxConfig podConfig, String handler) {
    awaitRestore();
    PodSandboxMetadata meta = podConfig.getMetadata();
    if (!podConfig.hasMetadata() || meta.getName().isEmpty() || meta.getNamespace().isEmpty()
        || meta.getUid().isEmpty()) {
      throw new InvalidArgumentException("pod sandbox config needs metadata with name,"
          + " namespace and uid");
    }
    Container.Runtime runtime = config.runtimeOf(handler);
    String name = meta.getName() + "_" + meta.getNamespace() + "_" + meta.getUid() + "_"
        + meta.getAttempt();
    String id = newId();
    reserve(name, id, "pod sandbox");
    Deque<Cleanup> undo = new ArrayDeque<>();
    undo.push(() -> names.remove(name, id));
    try {
      CriImages.Usable image = sandboxImage();
      boolean hostNetwork = podConfig.hasLinux()
          && podConfig.getLinux().getSecurityContext().getNamespaceOptions()
              .getNetworkValue() == 2;
      boolean hostIpc = podConfig.hasLinux()
          && podConfig.getLinux().getSecurityContext().getNamespaceOptions()
              .getIpcValue() == 2;
      Path dir = rootDir.resolve("sandboxes").resolve(id);
      Files.createDirectories(dir);
      undo.push(() -> deleteTree(dir));
      String cgroupParent = podConfig.hasLinux()
          && !podConfig.getLinux().getCgroupParent().isEmpty()
          ? podConfig.getLinux().getCgroupParent() : "/k8s.io";
      PodSandbox sandbox = new PodSandbox(id, name, podConfig, handler, runtime,
          System.currentTimeMillis() * 1_000_000L, cgroupParent, dir);
      sandbox.image(image.name());
      PodSpecs.SandboxFiles files = writeSandboxFiles(sandbox, hostNetwork);
      if (!hostIpc) {
        Files.createDirectories(files.shm());
        host.mount("shm", files.shm(), "tmpfs",
            List.of("nosuid", "nodev", "noexec", "mode=1777", "size=65536k"));
        undo.push(() -> unmountShm(files.shm()));
      }
      CompletableFuture<JsonObject> attached = null;
      if (!hostNetwork) {
        Path netns = NetworkNamespace.create(host, stateDir.resolve("netns"));
        sandbox.netns(netns.toString());
        undo.push(() -> NetworkNamespace.remove(host, netns));
        // The CNI plugins and the pause container's start only share the pinned namespace,
        // so they overlap: a pod is ready after the longer of the two, not after both.
        CniNetwork.Attachment attachment = attachment(sandbox);
        CompletableFuture<JsonObject> setUp = CompletableFuture.supplyAsync(() -> {
          try {
            return network.setUp(attachment);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }, command -> Thread.ofVirtual().name("cni-" + id).start(command));
        attached = setUp;
        undo.push(() -> {
          setUp.exceptionally(e -> null).join(); // a failed ADD has cleaned up after itself
          network.tearDown(attachment);
        });
      }
      PodSpecs.Pod pod = new PodSpecs.Pod(id, podConfig, sandbox.netns(), 0, files,
          cgroupParent);
      List<Mount> rootfs = prepareSnapshot(id, image, undo);
      JsonObject spec = specs.sandbox(pod, imageConfig(image), image.name(),
          new ImageUsers(layers(rootfs)));
      Map<String, String> labels = new LinkedHashMap<>(podConfig.getLabelsMap());
      labels.put(KIND_LABEL, "sandbox");
      createContainerRecord(id, image.name(), runtime, spec, labels,
          "io.cri-containerd.sandbox.metadata", podConfig.toByteString(), undo);
      int pid = createAndStartTask(id, rootfs, "", "", "", false, undo);
      if (attached != null) {
        sandbox.ips(CniNetwork.addresses(joinNetwork(attached)));
      }
      sandbox.pid(pid);
      sandbox.state(PodSandboxState.SANDBOX_READY);
      sandbox.save();
      sandboxes.put(id, sandbox);
      events.sandbox(ContainerEventType.CONTAINER_CREATED_EVENT, sandbox);
      events.sandbox(ContainerEventType.CONTAINER_STARTED_EVENT, sandbox);
      return id;
    } catch (IOException e) {
      rollBack(undo, e);
      throw new StatusRuntimeException(Status.INTERNAL.withDescription("pod " + name + ": "
          + e.getMessage()));
    } catch (RuntimeException e) {
      rollBack(undo, e);
      throw e;
    }
  }

  private static JsonObject joinNetwork(CompletableFuture<JsonObject> setUp)
      throws IOException {
    try {
      return setUp.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof UncheckedIOException io) {
        throw io.getCause();
      }
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw e;
    }
  }

  /** One step of a rollback. */
  private interface Cleanup {
    void run() throws IOException;
  }

  private static void rollBack(Deque<Cleanup> undo, Exception failure) {
    while (!undo.isEmpty()) {
      try {
        undo.pop().run();
      } catch (IOException | RuntimeException e) {
        failure.addSuppressed(e);
        LOG.log(Level.WARNING, "clean-up after a failed CRI call: " + e.getMessage());
      }
    }
  }

  private CniNetwork.Attachment attachment(PodSandbox sandbox) {
    PodSandboxMetadata meta = sandbox.config().getMetadata();
    List<CniNetwork.PortMapping> ports = new ArrayList<>();
    for (PortMapping port : sandbox.config().getPortMappingsList()) {
      if (port.getHostPort() > 0) {
        ports.add(new CniNetwork.PortMapping(port.getHostPort(), port.getContainerPort(),
            port.getProtocol().name().toLowerCase(Locale.ROOT), port.getHostIp()));
      }
    }
    return new CniNetwork.Attachment(sandbox.id(),
        sandbox.netns() == null ? null : Path.of(sandbox.netns()), meta.getName(),
        meta.getNamespace(), meta.getUid(), ports);
  }

  private PodSpecs.SandboxFiles writeSandboxFiles(PodSandbox sandbox, boolean hostNetwork)
      throws IOException {
    Path dir = sandbox.dir();
    PodSandboxConfig podConfig = sandbox.config();
    String hostname = hostNetwork ? PodSpecs.hostHostname() : podConfig.getHostname();
    Files.writeString(dir.resolve("hostname"), hostname + "\n");
    if (hostNetwork) {
      Files.copy(Path.of("/etc/hosts"), dir.resolve("hosts"),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } else {
      Files.writeString(dir.resolve("hosts"), "127.0.0.1\tlocalhost\n"
          + "::1\tlocalhost ip6-localhost ip6-loopback\n"
          + "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\n"
          + "fe00::2\tip6-allrouters\n");
    }
    if (podConfig.hasDnsConfig()) {
      StringBuilder resolv = new StringBuilder();
      if (podConfig.getDnsConfig().getSearchesCount() > 0) {
        resolv.append("search ").append(String.join(" ", podConfig.getDnsConfig()
            .getSearchesList())).append('\n');
      }
      podConfig.getDnsConfig().getServersList().forEach(server ->
          resolv.append("nameserver ").append(server).append('\n'));
      if (podConfig.getDnsConfig().getOptionsCount() > 0) {
        resolv.append("options ").append(String.join(" ", podConfig.getDnsConfig()
            .getOptionsList())).append('\n');
      }
      Files.writeString(dir.resolve("resolv.conf"), resolv.toString());
    } else if (Files.exists(Path.of("/etc/resolv.conf"))) {
      Files.copy(Path.of("/etc/resolv.conf"), dir.resolve("resolv.conf"),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } else {
      Files.writeString(dir.resolve("resolv.conf"), "");
    }
    return new PodSpecs.SandboxFiles(dir.resolve("hostname"), dir.resolve("hosts"),
        dir.resolve("resolv.conf"), shmDir(sandbox.id()));
  }

  private Path shmDir(String sandboxId) {
    return stateDir.resolve("sandboxes").resolve(sandboxId).resolve("shm");
  }

  private void unmountShm(Path shm) {
    while (host.unmount(shm)) {
      // mounted twice (a retried RunPodSandbox): each comes off
    }
  }

  /** The sandbox image, pulled into k8s.io when it is not there yet. */
  private CriImages.Usable sandboxImage() throws IOException {
    String name = dev.jctr.api.identifiers.ImageNames.normalize(config.sandboxImage());
    try {
      return images.resolveByName(name);
    } catch (NotFoundException e) {
      LOG.log(Level.INFO, "pulling sandbox image " + name);
      puller.pull(name, "", "");
      return images.resolveByName(name);
    }
  }

  private JsonObject imageConfig(CriImages.Usable image) {
    return image.config().has("config") && image.config().get("config").isJsonObject()
        ? image.config().getAsJsonObject("config") : new JsonObject();
  }

  /**
   * The lease that holds the snapshots being prepared until their container records exist (a
   * record then holds its snapshot). One for all creations rather than one each: that saves a
   * metadata write per creation, and the release happens off the caller's path. It is made
   * anew each time the CRI starts, so that what a crash left in it goes to the collector.
   */
  static final String CREATING_LEASE = "jctr.cri.creating";

  private void renewCreatingLease() {
    LocalApi.ignoringNotFound(() -> api.leases().delete(DeleteRequest.newBuilder()
        .setId(CREATING_LEASE).build()));
    createCreatingLease();
  }

  private void createCreatingLease() {
    try {
      api.leases().create(CreateRequest.newBuilder().setId(CREATING_LEASE).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
        throw e;
      }
    }
  }

  /** The snapshot {@code key} on the image's top layer, in the creation lease. */
  private List<Mount> prepareSnapshot(String key, CriImages.Usable image, Deque<Cleanup> undo) {
    PrepareSnapshotRequest request = PrepareSnapshotRequest.newBuilder()
        .setSnapshotter(config.snapshotter()).setKey(key).setParent(image.chainId()).build();
    List<Mount> mounts;
    try {
      mounts = api.snapshots(CREATING_LEASE).prepare(request).getMountsList();
    } catch (StatusRuntimeException e) {
      if (!LocalApi.notFound(e)
          || !String.valueOf(e.getStatus().getDescription()).contains(CREATING_LEASE)) {
        throw e;
      }
      createCreatingLease(); // someone deleted it: made again
      mounts = api.snapshots(CREATING_LEASE).prepare(request).getMountsList();
    }
    undo.push(() -> {
      releaseFromCreatingLease(key);
      LocalApi.ignoringNotFound(() -> api.snapshots().remove(RemoveSnapshotRequest
          .newBuilder().setSnapshotter(config.snapshotter()).setKey(key).build()));
    });
    return mounts;
  }

  private void releaseFromCreatingLease(String key) {
    LocalApi.ignoringNotFound(() -> api.leases().deleteResource(DeleteResourceRequest
        .newBuilder().setId(CREATING_LEASE).setResource(Resource.newBuilder()
            .setType("snapshots/" + config.snapshotter()).setId(key)).build()));
  }

  private void createContainerRecord(String id, String image, Container.Runtime runtime,
      JsonObject spec, Map<String, String> labels, String extension, ByteString metadata,
      Deque<Cleanup> undo) {
    Container.Builder record = Container.newBuilder().setId(id).setImage(image)
        .putAllLabels(labels).setSnapshotter(config.snapshotter()).setSnapshotKey(id)
        .setSpec(Any.newBuilder().setTypeUrl(TypeUrls.OCI_SPEC)
            .setValue(ByteString.copyFromUtf8(spec.toString())))
        .putExtensions(extension, Any.newBuilder().setTypeUrl("jctr.dev/cri/" + extension)
            .setValue(metadata).build())
        .setRuntime(runtime);
    api.containers().create(CreateContainerRequest.newBuilder().setContainer(record).build());
    undo.push(() -> LocalApi.ignoringNotFound(() -> api.containers().delete(
        DeleteContainerRequest.newBuilder().setId(id).build())));
    // the record holds the snapshot now; the caller need not wait for the lease to let go
    Thread.ofVirtual().name("cri-release-" + id).start(() -> {
      try {
        releaseFromCreatingLease(id);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "cannot release snapshot " + id + " from lease "
            + CREATING_LEASE + " (it goes at the next start): " + e.getMessage());
      }
    });
  }

  private int createAndStartTask(String id, List<Mount> rootfs, String stdin, String stdout,
      String stderr, boolean terminal, Deque<Cleanup> undo) {
    api.tasks().create(CreateTaskRequest.newBuilder().setContainerId(id).addAllRootfs(rootfs)
        .setStdin(stdin).setStdout(stdout).setStderr(stderr).setTerminal(terminal).build());
    undo.push(() -> {
      LocalApi.ignoringNotFound(() -> api.tasks().kill(KillRequest.newBuilder()
          .setContainerId(id).setSignal(SIGKILL).setAll(true).build()));
      deleteTask(id);
    });
    return api.tasks().start(StartRequest.newBuilder().setContainerId(id).build()).getPid();
  }

  void stopPodSandbox(String id) {
    awaitRestore();
    PodSandbox sandbox;
    try {
      sandbox = sandbox(id);
    } catch (NotFoundException e) {
      return; // already removed: nothing left to stop, which is success for the kubelet
    }
    synchronized (sandbox) {
      for (CriContainer container : containersOf(id)) {
        stopContainer(container.id(), 0);
      }
      if (sandbox.state() == PodSandboxState.SANDBOX_READY || task(id, true).isPresent()) {
        killAndDelete(id);
      }
      try {
        network.tearDown(attachment(sandbox));
        if (sandbox.netns() != null) {
          NetworkNamespace.remove(host, Path.of(sandbox.netns()));
        }
        unmountShm(shmDir(id));
      } catch (IOException e) {
        throw new StatusRuntimeException(Status.INTERNAL.withDescription("stopping pod "
            + sandbox.name() + ": " + e.getMessage()));
      }
      boolean changed = sandbox.state() != PodSandboxState.SANDBOX_NOTREADY;
      sandbox.state(PodSandboxState.SANDBOX_NOTREADY);
      save(sandbox);
      if (changed) {
        events.sandbox(ContainerEventType.CONTAINER_STOPPED_EVENT, sandbox);
      }
    }
  }

  /** Kills a task and waits for it to be gone (the exit handler deletes it too). */
  private void killAndDelete(String id) {
    LocalApi.ignoringNotFound(() -> api.tasks().kill(KillRequest.newBuilder()
        .setContainerId(id).setSignal(SIGKILL).setAll(true).build()));
    try {
      api.tasks().withDeadlineAfter(30, TimeUnit.SECONDS).wait(WaitRequest.newBuilder()
          .setContainerId(id).build());
    } catch (StatusRuntimeException e) {
      if (!LocalApi.notFound(e)) {
        LOG.log(Level.WARNING, "waiting for task " + id + " to exit: " + e.getStatus());
      }
    }
    deleteTask(id);
  }

  void removePodSandbox(String id) {
    awaitRestore();
    PodSandbox sandbox = sandboxes.get(id);
    if (sandbox == null) {
      return; // already gone: success, as the kubelet expects
    }
    synchronized (sandbox) {
      for (CriContainer container : containersOf(id)) {
        removeContainer(container.id());
      }
      if (sandbox.state() == PodSandboxState.SANDBOX_READY) {
        stopPodSandbox(id);
      }
      deleteTask(id);
      LocalApi.ignoringNotFound(() -> api.containers().delete(DeleteContainerRequest
          .newBuilder().setId(id).build()));
      LocalApi.ignoringNotFound(() -> api.snapshots().remove(RemoveSnapshotRequest.newBuilder()
          .setSnapshotter(config.snapshotter()).setKey(id).build()));
      try {
        network.tearDown(attachment(sandbox));
        if (sandbox.netns() != null) {
          NetworkNamespace.remove(host, Path.of(sandbox.netns()));
        }
        unmountShm(shmDir(id));
        deleteTree(stateDir.resolve("sandboxes").resolve(id));
        deleteTree(sandbox.dir());
      } catch (IOException e) {
        throw new StatusRuntimeException(Status.INTERNAL.withDescription("removing pod "
            + sandbox.name() + ": " + e.getMessage()));
      }
      sandboxes.remove(id);
      names.remove(sandbox.name(), id);
      events.sandbox(ContainerEventType.CONTAINER_DELETED_EVENT, sandbox);
    }
  }

  PodSandbox sandbox(String id) {
    return byId(sandboxes, id, "pod sandbox", PodSandbox::id);
  }

  /** By full id, or by a unique prefix of one, as crictl users pass them. */
  private <T> T byId(Map<String, T> records, String id, String what,
      java.util.function.Function<T, String> idOf) {
    awaitRestore();
    if (id.isEmpty()) {
      throw new InvalidArgumentException(what + " id must not be empty");
    }
    T found = records.get(id);
    if (found != null) {
      return found;
    }
    List<T> matches = records.values().stream().filter(r -> idOf.apply(r).startsWith(id))
        .toList();
    if (matches.size() == 1) {
      return matches.get(0);
    }
    throw new NotFoundException(what + " \"" + id + "\"");
  }

  List<PodSandbox> sandboxes() {
    awaitRestore();
    return sandboxes.values().stream().sorted(Comparator.comparingLong(PodSandbox::createdAt))
        .toList();
  }

  private List<CriContainer> containersOf(String sandboxId) {
    return containers.values().stream().filter(c -> c.sandboxId().equals(sandboxId)).toList();
  }

  // ---------------------------------------------------------------- containers

  String createContainer(String sandboxId, ContainerConfig containerConfig) {
    PodSandbox sandbox = sandbox(sandboxId);
    if (!containerConfig.hasMetadata() || containerConfig.getMetadata().getName().isEmpty()) {
      throw new InvalidArgumentException("container config needs metadata with a name");
    }
    if (!containerConfig.hasImage() || containerConfig.getImage().getImage().isEmpty()) {
      throw new InvalidArgumentException("container " + containerConfig.getMetadata().getName()
          + " has no image");
    }
    if (sandbox.state() != PodSandboxState.SANDBOX_READY) {
      throw new FailedPreconditionException("pod sandbox " + sandbox.id() + " is not ready;"
          + " containers can only be created in a running pod");
    }
    PodSandboxMetadata pod = sandbox.config().getMetadata();
    String name = containerConfig.getMetadata().getName() + "_" + pod.getName() + "_"
        + pod.getNamespace() + "_" + pod.getUid() + "_"
        + containerConfig.getMetadata().getAttempt();
    String id = newId();
    reserve(name, id, "container");
    Deque<Cleanup> undo = new ArrayDeque<>();
    undo.push(() -> names.remove(name, id));
    try {
      String imageRef = containerConfig.getImage().getImage();
      CriImages.Entry entry;
      try {
        entry = images.find(imageRef);
      } catch (NotFoundException e) {
        throw new NotFoundException("image \"" + imageRef + "\" is not present in namespace "
            + NAMESPACE + "; pull it first (PullImage, crictl pull " + imageRef + ")");
      }
      CriImages.Usable image = images.resolve(entry);
      Path dir = rootDir.resolve("containers").resolve(id);
      Files.createDirectories(dir);
      undo.push(() -> deleteTree(dir));
      List<Mount> rootfs = prepareSnapshot(id, image, undo);
      int targetPid = 0;
      if (containerConfig.hasLinux() && containerConfig.getLinux().getSecurityContext()
          .getNamespaceOptions().getPidValue() == 3) {
        CriContainer target = containers.get(containerConfig.getLinux().getSecurityContext()
            .getNamespaceOptions().getTargetId());
        targetPid = target == null ? 0 : target.pid();
      }
      PodSpecs.Pod podFacts = new PodSpecs.Pod(sandbox.id(), sandbox.config(), sandbox.netns(),
          sandbox.pid(), new PodSpecs.SandboxFiles(sandbox.dir().resolve("hostname"),
              sandbox.dir().resolve("hosts"), sandbox.dir().resolve("resolv.conf"),
              shmDir(sandbox.id())), sandbox.cgroupParent());
      JsonObject imageConfig = imageConfig(image);
      JsonObject spec = specs.container(podFacts, id, containerConfig, imageConfig,
          image.name(), new ImageUsers(layers(rootfs)), targetPid);
      Map<String, String> labels = new LinkedHashMap<>();
      if (imageConfig.has("Labels") && imageConfig.get("Labels").isJsonObject()) {
        imageConfig.getAsJsonObject("Labels").entrySet().forEach(e ->
            labels.put(e.getKey(), e.getValue().getAsString()));
      }
      labels.putAll(containerConfig.getLabelsMap());
      labels.put(KIND_LABEL, "container");
      createContainerRecord(id, image.name(), sandbox.runtime(), spec, labels,
          "io.cri-containerd.container.metadata", containerConfig.toByteString(), undo);
      String logPath = containerConfig.getLogPath().isEmpty() ? ""
          : Path.of(sandbox.config().getLogDirectory()).resolve(containerConfig.getLogPath())
              .toString();
      CriContainer container = new CriContainer(id, sandbox.id(), name, containerConfig,
          entry.image().getId(), imageRef, System.currentTimeMillis() * 1_000_000L, logPath,
          stopSignal(imageConfig), dir);
      container.save();
      containers.put(id, container);
      events.container(ContainerEventType.CONTAINER_CREATED_EVENT, container, sandbox);
      return id;
    } catch (IOException e) {
      rollBack(undo, e);
      throw new StatusRuntimeException(Status.INTERNAL.withDescription("container " + name
          + ": " + e.getMessage()));
    } catch (RuntimeException e) {
      rollBack(undo, e);
      throw e;
    }
  }

  void startContainer(String id) {
    CriContainer container = container(id);
    PodSandbox sandbox = sandbox(container.sandboxId());
    synchronized (container) {
      if (container.state() != ContainerState.CONTAINER_CREATED) {
        throw new FailedPreconditionException("container " + container.name() + " is "
            + container.state().name().substring("CONTAINER_".length()).toLowerCase(Locale.ROOT)
            + "; only a created container can be started");
      }
      if (sandbox.state() != PodSandboxState.SANDBOX_READY) {
        throw new FailedPreconditionException("pod sandbox " + sandbox.id() + " is not"
            + " ready; start the container in a running pod");
      }
      Deque<Cleanup> undo = new ArrayDeque<>();
      try {
        boolean tty = container.config().getTty();
        boolean stdin = container.config().getStdin();
        Path io = ioDir(id);
        if (stdin) { // for Attach; the shim holds it open until CloseIO
          Fifos.create(host, io.resolve("stdin"), io.resolve("stdout"), io.resolve("stderr"));
        } else {
          Fifos.create(host, io.resolve("stdout"), io.resolve("stderr"));
        }
        ContainerLogger logger = startLogger(container, true);
        undo.push(() -> {
          release(io.resolve("stdout"));
          release(io.resolve("stderr"));
          logger.close();
          loggers.remove(id);
        });
        List<Mount> rootfs = api.snapshots().mounts(MountsRequest.newBuilder()
            .setSnapshotter(config.snapshotter()).setKey(id).build()).getMountsList();
        int pid = createAndStartTask(id, rootfs, stdin ? io.resolve("stdin").toString() : "",
            io.resolve("stdout").toString(), tty ? "" : io.resolve("stderr").toString(), tty,
            undo);
        if (tty) {
          release(io.resolve("stderr"));
        }
        container.started(pid, System.currentTimeMillis() * 1_000_000L);
        container.save();
        events.container(ContainerEventType.CONTAINER_STARTED_EVENT, container, sandbox);
      } catch (IOException | RuntimeException e) {
        rollBack(undo, e);
        String message = e instanceof StatusRuntimeException s
            ? s.getStatus().getDescription() : e.getMessage();
        container.finished(128, System.currentTimeMillis() * 1_000_000L, "StartError",
            message == null ? e.toString() : message);
        save(container);
        if (e instanceof IOException) {
          throw new StatusRuntimeException(Status.INTERNAL.withDescription("starting container "
              + container.name() + ": " + e.getMessage()));
        }
        throw (RuntimeException) e;
      }
    }
  }

  private Path ioDir(String id) {
    return stateDir.resolve("containers").resolve(id).resolve("io");
  }

  private ContainerLogger startLogger(CriContainer container, boolean fresh) throws IOException {
    Path io = ioDir(container.id());
    if (!fresh && !Files.exists(io.resolve("stdout"))) {
      return null; // fifos gone (host rebooted): nothing to copy
    }
    ContainerLogger logger = ContainerLogger.start(container.id(), io.resolve("stdout"),
        container.config().getTty() ? null : io.resolve("stderr"),
        container.logPath().isEmpty() ? null : Path.of(container.logPath()),
        config.maxLogLineSize());
    loggers.put(container.id(), logger);
    return logger;
  }

  /** Unblocks a reader waiting in open() on a fifo nobody will write to. */
  private static void release(Path fifo) {
    if (Files.exists(fifo)) {
      try (RandomAccessFile unblock = new RandomAccessFile(fifo.toFile(), "rw")) {
        // opened read-write: never blocks; closing it ends the reader's stream
      } catch (IOException e) {
        // already gone
      }
    }
  }

  void stopContainer(String id, long timeoutSeconds) {
    CriContainer container = container(id);
    if (container.state() != ContainerState.CONTAINER_RUNNING) {
      return; // created or exited: nothing to stop
    }
    CompletableFuture<Void> exited = container.exited();
    if (timeoutSeconds > 0) {
      kill(id, container.stopSignal());
      if (awaitExit(exited, timeoutSeconds)) {
        return;
      }
    }
    kill(id, SIGKILL);
    if (!awaitExit(exited, 60)) {
      throw new StatusRuntimeException(Status.DEADLINE_EXCEEDED.withDescription("container "
          + container.name() + " did not exit within 60 s of SIGKILL"));
    }
  }

  private void kill(String id, int signal) {
    try {
      api.tasks().kill(KillRequest.newBuilder().setContainerId(id).setSignal(signal)
          .setAll(signal == SIGKILL).build());
    } catch (StatusRuntimeException e) {
      if (!LocalApi.notFound(e) && e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION) {
        throw e;
      }
      // the task is gone or has exited: its exit event is on its way
      pollExit(id);
    }
  }

  /** Records an exit the event stream may not bring (the task went while nobody listened). */
  private void pollExit(String id) {
    Optional<Process> task = task(id, true);
    CriContainer container = containers.get(id);
    if (container == null) {
      return;
    }
    if (task.isEmpty()) {
      onExit(id, 255, System.currentTimeMillis() * 1_000_000L);
    } else if (task.get().getStatusValue() == 3) { // STOPPED
      onExit(id, task.get().getExitStatus(), nanos(task.get().getExitedAt()));
    }
  }

  private static boolean awaitExit(CompletableFuture<Void> exited, long seconds) {
    try {
      exited.get(seconds, TimeUnit.SECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (java.util.concurrent.ExecutionException e) {
      return true;
    }
  }

  void removeContainer(String id) {
    awaitRestore();
    CriContainer container = containers.get(id);
    if (container == null) {
      List<CriContainer> matches = containers.values().stream()
          .filter(c -> c.id().startsWith(id)).toList();
      if (matches.size() != 1 || id.isEmpty()) {
        return; // already gone: success
      }
      container = matches.get(0);
    }
    String cid = container.id();
    if (container.state() == ContainerState.CONTAINER_RUNNING) {
      stopContainer(cid, 0);
    }
    synchronized (container) {
      deleteTask(cid);
      LocalApi.ignoringNotFound(() -> api.containers().delete(DeleteContainerRequest
          .newBuilder().setId(cid).build()));
      LocalApi.ignoringNotFound(() -> api.snapshots().remove(RemoveSnapshotRequest.newBuilder()
          .setSnapshotter(config.snapshotter()).setKey(cid).build()));
      ContainerLogger logger = loggers.remove(cid);
      if (logger != null) {
        logger.close();
      }
      try {
        deleteTree(stateDir.resolve("containers").resolve(cid));
        deleteTree(container.dir());
      } catch (IOException e) {
        throw new StatusRuntimeException(Status.INTERNAL.withDescription("removing container "
            + container.name() + ": " + e.getMessage()));
      }
      containers.remove(cid);
      names.remove(container.name(), cid);
      PodSandbox sandbox = sandboxes.get(container.sandboxId());
      events.container(ContainerEventType.CONTAINER_DELETED_EVENT, container, sandbox);
    }
  }

  CriContainer container(String id) {
    return byId(containers, id, "container", CriContainer::id);
  }

  List<CriContainer> containers() {
    awaitRestore();
    return containers.values().stream()
        .sorted(Comparator.comparingLong(CriContainer::createdAt)).toList();
  }

  Optional<PodSandbox> sandboxOf(CriContainer container) {
    return Optional.ofNullable(sandboxes.get(container.sandboxId()));
  }

  /** The cgroupfs path of a container or pause container. */
  String cgroupsPath(String sandboxId, String id) {
    PodSandbox sandbox = sandboxes.get(sandboxId);
    return (sandbox == null ? "/k8s.io" : sandbox.cgroupParent()) + "/" + id;
  }

  /** The container's OCI spec as stored in its record. */
  JsonObject spec(String id) {
    Container record = api.containers().get(GetContainerRequest.newBuilder().setId(id).build())
        .getContainer();
    return JsonParser.parseString(record.getSpec().getValue().toStringUtf8()).getAsJsonObject();
  }

  void updateResources(String id, LinuxContainerResources resources) {
    CriContainer container = container(id);
    JsonObject limits = PodSpecs.resources(resources);
    synchronized (container) {
      if (container.state() == ContainerState.CONTAINER_RUNNING) {
        api.tasks().update(UpdateTaskRequest.newBuilder().setContainerId(container.id())
            .setResources(Any.newBuilder().setTypeUrl(RESOURCES_TYPE)
                .setValue(ByteString.copyFromUtf8(limits.toString()))).build());
      } else if (container.state() == ContainerState.CONTAINER_EXITED) {
        throw new FailedPreconditionException("container " + container.name() + " has exited;"
            + " its resources cannot change");
      }
      JsonObject spec = spec(container.id());
      JsonObject current = spec.getAsJsonObject("linux").getAsJsonObject("resources");
      limits.entrySet().forEach(e -> current.add(e.getKey(), e.getValue()));
      api.containers().update(UpdateContainerRequest.newBuilder().setContainer(Container
          .newBuilder().setId(container.id()).setSpec(Any.newBuilder()
              .setTypeUrl(TypeUrls.OCI_SPEC).setValue(ByteString.copyFromUtf8(spec.toString()))))
          .setUpdateMask(FieldMask.newBuilder().addPaths("spec")).build());
    }
  }

  void reopenLog(String id) {
    CriContainer container = container(id);
    if (container.state() != ContainerState.CONTAINER_RUNNING) {
      throw new FailedPreconditionException("container " + container.name() + " is not"
          + " running; only a running container's log can be reopened");
    }
    ContainerLogger logger = loggers.get(container.id());
    if (logger == null) {
      throw new FailedPreconditionException("container " + container.name() + " has no log"
          + " copier (its output fifos were lost)");
    }
    try {
      logger.reopen();
    } catch (IOException e) {
      throw new StatusRuntimeException(Status.INTERNAL.withDescription("reopening the log of "
          + container.name() + " at " + container.logPath() + ": " + e.getMessage()));
    }
  }

  /** What ExecSync returns. */
  record ExecResult(byte[] stdout, byte[] stderr, int exitCode) {}

  ExecResult execSync(String id, List<String> cmd, long timeoutSeconds) {
    CriContainer container = container(id);
    if (cmd.isEmpty()) {
      throw new InvalidArgumentException("exec needs a command");
    }
    if (container.state() != ContainerState.CONTAINER_RUNNING) {
      throw new FailedPreconditionException("container " + container.name() + " is not"
          + " running");
    }
    String execId = HexFormat.of().formatHex(randomBytes(8));
    JsonObject process = spec(container.id()).getAsJsonObject("process");
    process.add("args", PodSpecs.array(cmd));
    process.addProperty("terminal", false);
    Path io = ioDir(container.id());
    Path stdout = io.resolve("exec-" + execId + "-stdout");
    Path stderr = io.resolve("exec-" + execId + "-stderr");
    try {
      Fifos.create(host, stdout, stderr);
      CompletableFuture<byte[]> out = collect(stdout);
      CompletableFuture<byte[]> err = collect(stderr);
      try {
        api.tasks().exec(ExecProcessRequest.newBuilder().setContainerId(container.id())
            .setExecId(execId).setStdout(stdout.toString()).setStderr(stderr.toString())
            .setSpec(Any.newBuilder().setTypeUrl(PROCESS_TYPE)
                .setValue(ByteString.copyFromUtf8(process.toString()))).build());
        int exitCode;
        try {
          api.tasks().start(StartRequest.newBuilder().setContainerId(container.id())
              .setExecId(execId).build());
          var tasks = timeoutSeconds > 0
              ? api.tasks().withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS) : api.tasks();
          WaitResponse waited;
          try {
            waited = tasks.wait(WaitRequest.newBuilder().setContainerId(container.id())
                .setExecId(execId).build());
          } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED) {
              throw e;
            }
            LocalApi.ignoringNotFound(() -> api.tasks().kill(KillRequest.newBuilder()
                .setContainerId(container.id()).setExecId(execId).setSignal(SIGKILL).build()));
            throw new StatusRuntimeException(Status.DEADLINE_EXCEEDED.withDescription(
                "command " + cmd + " in container " + container.name() + " timed out after "
                    + timeoutSeconds + " s"));
          }
          exitCode = waited.getExitStatus();
        } finally {
          try {
            api.tasks().withDeadlineAfter(10, TimeUnit.SECONDS).wait(WaitRequest.newBuilder()
                .setContainerId(container.id()).setExecId(execId).build());
          } catch (StatusRuntimeException e) {
            // gone already, or still dying: delete tries anyway
          }
          LocalApi.ignoringNotFound(() -> api.tasks().deleteProcess(DeleteProcessRequest
              .newBuilder().setContainerId(container.id()).setExecId(execId).build()));
        }
        // output may trail the exit a little; a background process holding the pipes does not
        // hold ExecSync up beyond this
        return new ExecResult(drained(out, stdout), drained(err, stderr), exitCode);
      } finally {
        release(stdout);
        release(stderr);
        Files.deleteIfExists(stdout);
        Files.deleteIfExists(stderr);
      }
    } catch (IOException e) {
      throw new StatusRuntimeException(Status.INTERNAL.withDescription("exec in container "
          + container.name() + ": " + e.getMessage()));
    }
  }

  private static CompletableFuture<byte[]> collect(Path fifo) {
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    Thread.ofPlatform().daemon().start(() -> {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (InputStream in = new FileInputStream(fifo.toFile())) {
        byte[] buffer = new byte[16 * 1024];
        int n;
        while ((n = in.read(buffer)) > 0) {
          if (bytes.size() + n <= EXEC_OUTPUT_LIMIT) {
            bytes.write(buffer, 0, n);
          }
        }
      } catch (IOException e) {
        // what was read is the output
      }
      result.complete(bytes.toByteArray());
    });
    return result;
  }

  private static byte[] drained(CompletableFuture<byte[]> output, Path fifo) {
    try {
      return output.get(2, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      release(fifo);
      try {
        return output.get(2, TimeUnit.SECONDS);
      } catch (Exception again) {
        return new byte[0];
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new byte[0];
    } catch (java.util.concurrent.ExecutionException e) {
      return new byte[0];
    }
  }

  // ---------------------------------------------------------------- streaming

  /** Checks an Exec request before its URL is handed out. */
  void checkExec(String id, List<String> cmd) {
    CriContainer container = container(id);
    if (cmd.isEmpty()) {
      throw new InvalidArgumentException("exec needs a command");
    }
    if (container.state() != ContainerState.CONTAINER_RUNNING) {
      throw new FailedPreconditionException("container " + container.name() + " is not"
          + " running");
    }
  }

  /** Attach's checks; the container's full id. */
  String checkAttach(String id, boolean stdin) {
    CriContainer container = container(id);
    if (container.state() != ContainerState.CONTAINER_RUNNING) {
      throw new FailedPreconditionException("container " + container.name() + " is not"
          + " running; attach needs a running container (its log has the output)");
    }
    if (stdin && !container.config().getStdin()) {
      throw new InvalidArgumentException("container " + container.name() + " was created"
          + " without stdin; create it with stdin: true to attach to its input");
    }
    return container.id();
  }

  /**
   * Attach: the container's output from now on (a copy of what its logger reads), its stdin
   * fifo, its terminal size. Ends when the container exits or the client goes; with
   * stdin_once, the container's stdin reaches end of file when the client goes.
   */
  dev.jctr.cri.streaming.StreamedProcess attach(
      dev.jctr.cri.streaming.StreamRequests.Attach request) {
    CriContainer container = container(request.containerId());
    String cid = container.id();
    ContainerLogger logger = loggers.get(cid);
    if (logger == null || container.state() != ContainerState.CONTAINER_RUNNING) {
      throw new FailedPreconditionException("container " + container.name() + " is not"
          + " running; attach needs a running container");
    }
    boolean tty = container.config().getTty();
    dev.jctr.cri.io.OutputTap out = request.stdout() || tty && request.stderr()
        ? logger.tap("stdout") : null;
    dev.jctr.cri.io.OutputTap err = request.stderr() && !tty ? logger.tap("stderr") : null;
    java.io.OutputStream in = null;
    if (request.stdin() && container.config().getStdin()) {
      try {
        // read-write: opening never blocks, and the shim holds the reading end
        in = new FileOutputStream(new RandomAccessFile(ioDir(cid).resolve("stdin").toFile(),
            "rw").getFD());
      } catch (IOException e) {
        throw new FailedPreconditionException("container " + container.name()
            + ": its stdin is gone (" + e.getMessage() + ")");
      }
    }
    java.io.OutputStream stdin = in;
    CompletableFuture<Void> detached = new CompletableFuture<>();
    return new dev.jctr.cri.streaming.StreamedProcess() {
      @Override
      public InputStream stdout() {
        return out == null ? InputStream.nullInputStream() : out;
      }

      @Override
      public InputStream stderr() {
        return err;
      }

      @Override
      public java.io.OutputStream stdin() {
        return stdin;
      }

      @Override
      public void resize(int width, int height) {
        if (tty) {
          LocalApi.ignoringNotFound(() -> api.tasks().resizePty(
              dev.jctr.api.proto.containerd.services.tasks.v1.ResizePtyRequest.newBuilder()
                  .setContainerId(cid).setWidth(width).setHeight(height).build()));
        }
      }

      @Override
      public int await() throws InterruptedException {
        try {
          CompletableFuture.anyOf(container.exited(), detached).get();
        } catch (java.util.concurrent.ExecutionException e) {
          return 0;
        }
        return detached.isDone() ? 0 : container.exitCode();
      }

      @Override
      public void close() {
        if (!detached.complete(null)) {
          return;
        }
        if (out != null) {
          logger.untap(out);
        }
        if (err != null) {
          logger.untap(err);
        }
        if (stdin != null) {
          try {
            stdin.close();
          } catch (IOException e) {
            // the container is gone
          }
          if (container.config().getStdinOnce()) {
            LocalApi.ignoringNotFound(() -> api.tasks().closeIO(
                dev.jctr.api.proto.containerd.services.tasks.v1.CloseIORequest.newBuilder()
                    .setContainerId(cid).setStdin(true).build()));
          }
        }
      }
    };
  }

  /** Starts an exec whose stdio a streaming session carries. */
  dev.jctr.cri.streaming.StreamedProcess streamExec(
      dev.jctr.cri.streaming.StreamRequests.Exec request) throws IOException {
    CriContainer container = container(request.containerId());
    String cid = container.id();
    String execId = HexFormat.of().formatHex(randomBytes(8));
    JsonObject process = spec(cid).getAsJsonObject("process");
    process.add("args", PodSpecs.array(request.cmd()));
    process.addProperty("terminal", request.tty());
    Path io = ioDir(cid);
    Path in = io.resolve("exec-" + execId + "-stdin");
    Path out = io.resolve("exec-" + execId + "-stdout");
    Path err = io.resolve("exec-" + execId + "-stderr");
    boolean withErr = request.stderr() && !request.tty();
    List<Path> fifos = new ArrayList<>(List.of(out));
    if (request.stdin()) {
      fifos.add(in);
    }
    if (withErr) {
      fifos.add(err);
    }
    Fifos.create(host, fifos.toArray(Path[]::new));
    InputStream stdout = dev.jctr.cri.io.FifoStreams.reader(out);
    InputStream stderr = withErr ? dev.jctr.cri.io.FifoStreams.reader(err) : null;
    try {
      api.tasks().exec(ExecProcessRequest.newBuilder().setContainerId(cid).setExecId(execId)
          .setStdin(request.stdin() ? in.toString() : "").setStdout(out.toString())
          .setStderr(withErr ? err.toString() : "").setTerminal(request.tty())
          .setSpec(Any.newBuilder().setTypeUrl(PROCESS_TYPE)
              .setValue(ByteString.copyFromUtf8(process.toString()))).build());
    } catch (RuntimeException e) {
      fifos.forEach(PodManager::release);
      for (Path fifo : fifos) {
        Files.deleteIfExists(fifo);
      }
      throw e;
    }
    java.io.OutputStream stdin = request.stdin() ? dev.jctr.cri.io.FifoStreams.writer(in) : null;
    api.tasks().start(StartRequest.newBuilder().setContainerId(cid).setExecId(execId).build());
    return new dev.jctr.cri.streaming.StreamedProcess() {
      private volatile boolean exited;

      @Override
      public InputStream stdout() {
        return stdout;
      }

      @Override
      public InputStream stderr() {
        return stderr;
      }

      @Override
      public java.io.OutputStream stdin() {
        return stdin;
      }

      @Override
      public void resize(int width, int height) {
        LocalApi.ignoringNotFound(() -> api.tasks().resizePty(
            dev.jctr.api.proto.containerd.services.tasks.v1.ResizePtyRequest.newBuilder()
                .setContainerId(cid).setExecId(execId).setWidth(width).setHeight(height)
                .build()));
      }

      @Override
      public int await() {
        int code = api.tasks().wait(WaitRequest.newBuilder().setContainerId(cid)
            .setExecId(execId).build()).getExitStatus();
        exited = true;
        return code;
      }

      @Override
      public void close() {
        if (!exited) {
          LocalApi.ignoringNotFound(() -> api.tasks().kill(KillRequest.newBuilder()
              .setContainerId(cid).setExecId(execId).setSignal(SIGKILL).build()));
        }
        try {
          if (stdin != null) {
            stdin.close();
          }
        } catch (IOException e) {
          // the process is gone
        }
        try {
          api.tasks().withDeadlineAfter(10, TimeUnit.SECONDS).deleteProcess(DeleteProcessRequest
              .newBuilder().setContainerId(cid).setExecId(execId).build());
        } catch (StatusRuntimeException e) {
          // gone already
        }
        for (Path fifo : fifos) {
          release(fifo);
          try {
            Files.deleteIfExists(fifo);
          } catch (IOException e) {
            // the container's io dir went with it
          }
        }
      }
    };
  }

  /** Checks a PortForward request; the pod's network namespace (null: the host's). */
  String checkPortForward(String sandboxId) {
    PodSandbox sandbox = sandbox(sandboxId);
    if (sandbox.state() != PodSandboxState.SANDBOX_READY) {
      throw new FailedPreconditionException("pod sandbox " + sandbox.id() + " is not ready");
    }
    return sandbox.netns();
  }

  /**
   * A connection to {@code localhost:port} inside the pod's network namespace: busybox's nc
   * (busybox-static) run under nsenter, its stdio the session's data channel.
   */
  static dev.jctr.cri.streaming.StreamedProcess dial(String netns, int port) throws IOException {
    List<String> command = new ArrayList<>();
    if (netns != null) {
      command.addAll(List.of("nsenter", "--net=" + netns));
    }
    command.addAll(List.of("busybox", "nc", "127.0.0.1", Integer.toString(port)));
    java.lang.Process nc = new ProcessBuilder(command).redirectError(
        ProcessBuilder.Redirect.DISCARD).start();
    return new dev.jctr.cri.streaming.StreamedProcess() {
      @Override
      public InputStream stdout() {
        return nc.getInputStream();
      }

      @Override
      public InputStream stderr() {
        return null;
      }

      @Override
      public java.io.OutputStream stdin() {
        return nc.getOutputStream();
      }

      @Override
      public void resize(int width, int height) {
      }

      @Override
      public int await() throws InterruptedException {
        return nc.waitFor();
      }

      @Override
      public void close() {
        nc.destroy();
      }
    };
  }

  // ---------------------------------------------------------------- exits

  private void onTaskEvent(Envelope envelope) {
    try {
      awaitRestore();
      String name = TypeUrls.messageName(envelope.getEvent());
      if (name.endsWith("TaskOOM")) {
        oomKilled.add(TaskOOM.parseFrom(envelope.getEvent().getValue()).getContainerId());
        return;
      }
      TaskExit exit = TaskExit.parseFrom(envelope.getEvent().getValue());
      if (!exit.getId().isEmpty() && !exit.getId().equals(exit.getContainerId())) {
        return; // an exec process
      }
      onExit(exit.getContainerId(), exit.getExitStatus(), nanos(exit.getExitedAt()));
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.WARNING, "CRI could not handle task event " + envelope.getTopic() + ": "
          + e.getMessage());
    }
  }

  private void onExit(String id, int status, long at) {
    CriContainer container = containers.get(id);
    if (container != null) {
      if (container.finished(status, at, reason(id, status), "")) {
        save(container);
        ContainerLogger logger = loggers.remove(id);
        deleteTask(id);
        if (logger != null) {
          try {
            logger.await(2000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          logger.close();
        }
        events.container(ContainerEventType.CONTAINER_STOPPED_EVENT, container,
            sandboxes.get(container.sandboxId()));
      }
      return;
    }
    PodSandbox sandbox = sandboxes.get(id);
    if (sandbox != null && sandbox.state() == PodSandboxState.SANDBOX_READY) {
      sandbox.state(PodSandboxState.SANDBOX_NOTREADY);
      save(sandbox);
      deleteTask(id);
      events.sandbox(ContainerEventType.CONTAINER_STOPPED_EVENT, sandbox);
    }
  }

  private String reason(String id, int status) {
    if (oomKilled.remove(id)) {
      return "OOMKilled";
    }
    return status == 0 ? "Completed" : "Error";
  }

  // ---------------------------------------------------------------- helpers

  private Optional<Process> task(String id, boolean quiet) {
    try {
      return Optional.of(api.tasks().get(GetRequest.newBuilder().setContainerId(id).build())
          .getProcess());
    } catch (StatusRuntimeException e) {
      if (LocalApi.notFound(e)) {
        return Optional.empty();
      }
      if (!quiet) {
        throw e;
      }
      LOG.log(Level.WARNING, "task " + id + ": " + e.getStatus());
      return Optional.empty();
    }
  }

  private void deleteTask(String id) {
    try {
      api.tasks().delete(DeleteTaskRequest.newBuilder().setContainerId(id).build());
    } catch (StatusRuntimeException e) {
      if (!LocalApi.notFound(e)) {
        LOG.log(Level.WARNING, "deleting task " + id + ": " + e.getStatus());
      }
    }
  }

  private static long nanos(com.google.protobuf.Timestamp time) {
    return time.getSeconds() * 1_000_000_000L + time.getNanos();
  }

  private static void save(PodSandbox sandbox) {
    try {
      sandbox.save();
    } catch (IOException e) {
      LOG.log(Level.WARNING, "saving pod sandbox " + sandbox.id() + ": " + e.getMessage());
    }
  }

  private static void save(CriContainer container) {
    try {
      container.save();
    } catch (IOException e) {
      LOG.log(Level.WARNING, "saving container " + container.id() + ": " + e.getMessage());
    }
  }

  private void reserve(String name, String id, String what) {
    String holder = names.putIfAbsent(name, id);
    if (holder != null) {
      throw new AlreadyExistsException(what + " name \"" + name + "\" is reserved for "
          + holder + "; remove it first or use another attempt number");
    }
  }

  private String newId() {
    return HexFormat.of().formatHex(randomBytes(32));
  }

  private byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    random.nextBytes(bytes);
    return bytes;
  }

  /** The rootfs's directories, topmost first, from the snapshot's mounts (overlay or bind). */
  private static List<Path> layers(List<Mount> mounts) {
    List<Path> layers = new ArrayList<>();
    for (Mount mount : mounts) {
      if (mount.getType().equals("bind")) {
        layers.add(Path.of(mount.getSource()));
      }
      for (String option : mount.getOptionsList()) {
        if (option.startsWith("upperdir=")) {
          layers.add(0, Path.of(option.substring("upperdir=".length())));
        } else if (option.startsWith("lowerdir=")) {
          for (String lower : option.substring("lowerdir=".length()).split(":")) {
            layers.add(Path.of(lower));
          }
        }
      }
    }
    return layers;
  }

  private static int stopSignal(JsonObject imageConfig) {
    String signal = imageConfig.has("StopSignal") ? imageConfig.get("StopSignal").getAsString()
        : "";
    if (signal.isEmpty()) {
      return 15;
    }
    if (signal.matches("\\d+")) {
      return Integer.parseInt(signal);
    }
    String name = signal.toUpperCase(Locale.ROOT).replaceFirst("^SIG", "");
    return switch (name) {
      case "HUP" -> 1;
      case "INT" -> 2;
      case "QUIT" -> 3;
      case "KILL" -> 9;
      case "USR1" -> 10;
      case "USR2" -> 12;
      case "WINCH" -> 28;
      default -> 15;
    };
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  @Override
  public void close() {
    exits.close();
    loggers.values().forEach(ContainerLogger::close);
  }
}
