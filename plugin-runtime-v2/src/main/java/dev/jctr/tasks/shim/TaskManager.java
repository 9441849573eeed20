package dev.jctr.tasks.shim;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Timestamp;
import dev.jctr.api.containers.ContainerRecords;
import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.events.EventPublisher;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.events.TaskDelete;
import dev.jctr.api.proto.containerd.events.TaskExit;
import dev.jctr.api.proto.containerd.runc.options.Options;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.task.v2.ConnectRequest;
import dev.jctr.api.proto.containerd.task.v2.ConnectResponse;
import dev.jctr.api.proto.containerd.task.v2.CreateTaskRequest;
import dev.jctr.api.proto.containerd.task.v2.CreateTaskResponse;
import dev.jctr.api.proto.containerd.task.v2.DeleteRequest;
import dev.jctr.api.proto.containerd.task.v2.DeleteResponse;
import dev.jctr.api.proto.containerd.task.v2.ShutdownRequest;
import dev.jctr.api.proto.containerd.task.v2.StateRequest;
import dev.jctr.api.proto.containerd.task.v2.StateResponse;
import dev.jctr.api.proto.containerd.types.task.Status;
import dev.jctr.api.runtime.ShimPool;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The runtime v2 task manager: one shim per task (or per group, when the shim groups), bundle
 * directories under {@code <state>/io.containerd.runtime.v2.task/}, and restore: at start it
 * finds every bundle, reconnects to the shims that still run and runs {@code delete} for the
 * dead ones, publishing the exits it missed.
 */
@Component(service = {TaskManager.class, ShimPool.class},
    name = "io.containerd.runtime.v2.task")
@Plugin(type = PluginTypes.RUNTIME_V2, id = "task", requires = {PluginTypes.METADATA,
    PluginTypes.EVENT})
public final class TaskManager implements ShimPool {

  private static final Logger LOG = System.getLogger(TaskManager.class.getName());
  public static final String DEFAULT_RUNTIME = "io.containerd.jctr.v2";

  /** A task the daemon knows: its bundle, shim binary and connection. */
  public record Task(Bundle bundle, ShimBinary binary, ShimClient shim) {
    public String namespace() {
      return bundle.namespace();
    }

    public String id() {
      return bundle.id();
    }
  }

  private final ContainerRecords containers;
  private final Path tasksDir;
  private final Path runcRoot;
  private final ShimBinary.DaemonAddresses daemon;
  private final String defaultRuntime;
  private final Map<String, String> configuredBinaries = new LinkedHashMap<>();
  private final List<Path> searchPath = new ArrayList<>();
  private final Map<String, Task> tasks = new ConcurrentSkipListMap<>();
  private final Map<String, Object> creating = new ConcurrentHashMap<>();
  /** Addresses of the running shims of groups (jctr's shim), by group. */
  private final Map<String, String> groupShims = new ConcurrentHashMap<>();
  private final ShimConnections connections = new ShimConnections();

  private final EventPublisher publisher;

  @Activate
  public TaskManager(@Reference ContainerRecords containers,
      @Reference DaemonEnvironment environment, @Reference EventPublisher publisher,
      Map<String, Object> config) {
    this.containers = containers;
    this.publisher = publisher;
    this.tasksDir = environment.state().resolve(PluginTypes.RUNTIME_V2 + ".task");
    this.runcRoot = environment.state().resolve("runc");
    this.daemon = new ShimBinary.DaemonAddresses(environment.grpcAddress(),
        environment.ttrpcAddress(), environment.state());
    Object configuredDefault = config.get("defaultRuntime");
    this.defaultRuntime = configuredDefault == null || configuredDefault.toString().isEmpty()
        ? DEFAULT_RUNTIME : configuredDefault.toString();
    // [plugins."io.containerd.runtime.v2.task".runtimes."<name>"] binary_name = "..."
    config.forEach((key, value) -> {
      if (key.startsWith("runtimes.") && key.endsWith(".binaryName")) {
        configuredBinaries.put(key.substring("runtimes.".length(),
            key.length() - ".binaryName".length()), value.toString());
      }
    });
    String home = System.getProperty("jctr.home");
    if (home != null) {
      searchPath.add(Path.of(home, "bin"));
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty()) {
        searchPath.add(Path.of(dir));
      }
    }
    for (String dir : List.of("/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin")) {
      if (!searchPath.contains(Path.of(dir))) {
        searchPath.add(Path.of(dir));
      }
    }
    restore();
  }

  /** For tests. */
  public TaskManager(ContainerRecords containers, Path state, ShimBinary.DaemonAddresses daemon,
      List<Path> searchPath, EventPublisher publisher) {
    this.containers = containers;
    this.tasksDir = state.resolve(PluginTypes.RUNTIME_V2 + ".task");
    this.runcRoot = state.resolve("runc");
    this.daemon = daemon;
    this.defaultRuntime = DEFAULT_RUNTIME;
    this.searchPath.addAll(searchPath);
    this.publisher = publisher;
    restore();
  }

  @Deactivate
  void deactivate() {
    // the shims and their containers outlive the daemon: only the connections close
    tasks.values().forEach(task -> task.shim().close());
  }

  private static String key(String namespace, String id) {
    return namespace + "/" + id;
  }

  /** The task of container {@code id}, or NotFound naming it. */
  public Task get(String namespace, String id) {
    if (id == null || id.isEmpty()) {
      throw new InvalidArgumentException("container id must not be empty");
    }
    Task task = tasks.get(key(namespace, id));
    if (task == null) {
      throw new NotFoundException("task \"" + id + "\" in namespace \"" + namespace
          + "\" (no task was created for it, or it was deleted)");
    }
    return task;
  }

  /** The tasks of {@code namespace}, ordered by id. */
  public List<Task> list(String namespace) {
    return tasks.values().stream().filter(task -> task.namespace().equals(namespace)).toList();
  }

  /**
   * Creates the task of container {@code request.id}: its bundle from the container's spec,
   * the shim of its runtime, and the shim's Create. On failure nothing remains: no bundle,
   * no shim, no mount.
   */
  public CreateTaskResponse create(String namespace, CreateTaskRequest request) {
    String id = request.getId();
    Container container = containers.get(namespace, id);
    String taskKey = key(namespace, id);
    if (tasks.containsKey(taskKey) || creating.putIfAbsent(taskKey, Boolean.TRUE) != null) {
      throw new AlreadyExistsException("task \"" + id + "\" in namespace \"" + namespace
          + "\" already exists; delete it first (jctr tasks rm " + id + ")");
    }
    try {
      String runtime = container.hasRuntime() && !container.getRuntime().getName().isEmpty()
          ? container.getRuntime().getName() : defaultRuntime;
      ShimBinary binary = ShimBinary.resolve(runtime, configuredBinaries.get(runtime),
          searchPath);
      JsonObject spec = validSpec(container, request.getRootfsCount() > 0);
      Bundle bundle = Bundle.create(tasksDir, namespace, id,
          container.getSpec().getValue().toByteArray(), binary);
      ShimClient shim = null;
      try {
        String group = shimGroup(binary, namespace, spec);
        shim = group == null ? null : groupShim(group, namespace);
        if (shim == null) {
          String address = binary.start(namespace, id, bundle.dir(), daemon);
          shim = connections.acquire(address, namespace);
          if (group != null) {
            groupShims.put(group, address);
          }
        }
        if (bundle.address().isEmpty()) {
          bundle.writeAddress("unix://" + shim.address());
        }
        CreateTaskRequest.Builder shimRequest = request.toBuilder()
            .setBundle(bundle.dir().toString());
        if (shimRequest.getOptions().getTypeUrl().isEmpty() && container.hasRuntime()
            && container.getRuntime().hasOptions()) {
          shimRequest.setOptions(container.getRuntime().getOptions());
        }
        shimRequest.setOptions(runcRoot(runtime, shimRequest.getOptions()));
        CreateTaskResponse created = shim.call("Create", shimRequest.build(),
            CreateTaskResponse.parser());
        tasks.put(taskKey, new Task(bundle, binary, shim));
        return created;
      } catch (RuntimeException | IOException e) {
        abandon(namespace, id, bundle, binary, shim);
        if (e instanceof IOException io) {
          throw new FailedPreconditionException("task " + id + ": shim unreachable: "
              + io.getMessage());
        }
        throw (RuntimeException) e;
      }
    } finally {
      creating.remove(taskKey);
    }
  }

  /**
   * The group of a task whose shim serves several (jctr's: a slot of pods, else the
   * namespace), or null. A group's running shim takes the task directly: no {@code start}
   * process, which is what the shim's own start command would answer anyway. The slot is the
   * one containerd-shim-jctr-v2 computes (JCTR_SHIM_POD_SLOTS, a hash of the pod's id).
   */
  private static String shimGroup(ShimBinary binary, String namespace, JsonObject spec) {
    if (!groupsPods(binary)) {
      return null;
    }
    String group = "";
    if (spec.has("annotations") && spec.get("annotations").isJsonObject()) {
      JsonElement id = spec.getAsJsonObject("annotations").get("io.kubernetes.cri.sandbox-id");
      group = id == null || id.getAsString().isEmpty() ? "" : podGroup(id.getAsString(),
          System.getenv("JCTR_SHIM_POD_SLOTS"));
    }
    return binary.binary() + "\n" + namespace + "\n" + group;
  }

  @Override
  public void prestartPodShims(String namespace, String runtime) {
    Thread.ofVirtual().name("shim-prestart").start(() -> {
      try {
        ShimBinary binary = ShimBinary.resolve(runtime, configuredBinaries.get(runtime),
            searchPath);
        int slots = podSlots(System.getenv("JCTR_SHIM_POD_SLOTS"));
        if (!groupsPods(binary) || slots == 0) {
          return;
        }
        for (int slot = 0; slot < slots; slot++) {
          String group = binary.binary() + "\n" + namespace + "\npods/" + slot;
          if (!groupShims.containsKey(group)) {
            groupShims.put(group, binary.prestart(namespace, "pods/" + slot, daemon));
          }
        }
        LOG.log(Level.INFO, "{0} pod shims of namespace {1} started ahead of their pods",
            slots, namespace);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "pod shims of namespace " + namespace + " not started ahead: "
            + e.getMessage());
      }
    });
  }

  /** Whether {@code binary} is jctr's shim, grouping a namespace's pods into slots. */
  private static boolean groupsPods(ShimBinary binary) {
    return binary.binary().getFileName().toString().equals("containerd-shim-jctr-v2")
        && !"container".equals(System.getenv("JCTR_SHIM_GROUP"));
  }

  /** JCTR_SHIM_POD_SLOTS: anything but digits means the default, 4, as in the script. */
  private static int podSlots(String slots) {
    return slots != null && slots.matches("[0-9]{1,6}") ? Integer.parseInt(slots) : 4;
  }

  /** The shim group of pod {@code sandboxId}: "pods/N" of {@code slots} (4), or its own. */
  static String podGroup(String sandboxId, String slots) {
    int count = podSlots(slots);
    if (count == 0) {
      return "sandbox/" + sandboxId;
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(sandboxId.getBytes(StandardCharsets.UTF_8));
      long first = ((digest[0] & 0xffL) << 24) | ((digest[1] & 0xffL) << 16)
          | ((digest[2] & 0xffL) << 8) | (digest[3] & 0xffL);
      return "pods/" + (first % count);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // every JDK has SHA-256
    }
  }

  /** A connection to the group's shim if it still serves, else null. */
  private ShimClient groupShim(String group, String namespace) {
    String address = groupShims.get(group);
    if (address == null) {
      return null;
    }
    try {
      return connections.acquire(address, namespace);
    } catch (IOException | RuntimeException e) {
      groupShims.remove(group, address); // it has left after its idle time
      return null;
    }
  }

  /** Undoes a create that failed half-way: the shim is told to go, the bundle removed. */
  private void abandon(String namespace, String id, Bundle bundle, ShimBinary binary,
      ShimClient shim) {
    if (shim != null) {
      try {
        shim.call("Delete", DeleteRequest.newBuilder().setId(id).build(),
            DeleteResponse.parser(), Duration.ofSeconds(10));
      } catch (RuntimeException e) {
        LOG.log(Level.DEBUG, "abandoning " + id + ": shim delete: " + e.getMessage());
      }
      shutdown(shim, id);
    } else {
      try {
        binary.delete(namespace, id, bundle.dir(), daemon);
      } catch (RuntimeException e) {
        LOG.log(Level.DEBUG, "abandoning " + id + ": " + e.getMessage());
      }
    }
    try {
      bundle.remove();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "abandoning task " + id + ": " + e.getMessage());
    }
  }

  private static void shutdown(ShimClient shim, String id) {
    try {
      shim.call("Shutdown", ShutdownRequest.newBuilder().setId(id).build(),
          com.google.protobuf.Empty.parser(), Duration.ofSeconds(10));
    } catch (RuntimeException e) {
      // a shim that exits at once may not answer
    }
    shim.close();
  }

  /**
   * Deletes the task: the shim's Delete (which reports the exit), then Shutdown, then the
   * bundle. The process must have exited (FailedPrecondition otherwise, as the shim says).
   */
  public DeleteResponse delete(String namespace, String id) {
    Task task = get(namespace, id);
    DeleteResponse deleted;
    try {
      deleted = task.shim().call("Delete", DeleteRequest.newBuilder().setId(id).build(),
          DeleteResponse.parser());
    } catch (NotFoundException | dev.jctr.api.errors.UnavailableException e) {
      // the shim lost the task or is gone: what is left here goes too
      tasks.remove(key(namespace, id));
      shutdown(task.shim(), id);
      task.bundle().remove();
      throw e;
    }
    tasks.remove(key(namespace, id));
    shutdown(task.shim(), id);
    task.bundle().remove();
    return deleted;
  }

  /**
   * The runc shim keeps runc's state under {@code /run/containerd/runc/<ns>} unless told
   * otherwise: jctrd's go under its own state directory, so that a containerd on the same
   * host never sees them and an id may be in use in both.
   */
  private com.google.protobuf.Any runcRoot(String runtime, com.google.protobuf.Any options) {
    if (!runtime.startsWith("io.containerd.runc.")) {
      return options;
    }
    String typeUrl = "containerd.runc.v1.Options";
    Options.Builder runc = Options.newBuilder();
    if (!options.getTypeUrl().isEmpty()) {
      if (!options.getTypeUrl().endsWith(typeUrl)) {
        return options;
      }
      try {
        runc.mergeFrom(options.getValue());
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new InvalidArgumentException("runc options: " + e.getMessage());
      }
    }
    if (runc.getRoot().isEmpty()) {
      runc.setRoot(runcRoot.toString());
    }
    return com.google.protobuf.Any.newBuilder().setTypeUrl(options.getTypeUrl().isEmpty()
        ? typeUrl : options.getTypeUrl()).setValue(runc.build().toByteString()).build();
  }

  /** Validates the container's OCI spec enough to refuse it with a clear message. */
  private static JsonObject validSpec(Container container, boolean hasRootfs) {
    String id = container.getId();
    if (!container.hasSpec() || container.getSpec().getValue().isEmpty()) {
      throw new FailedPreconditionException("container \"" + id + "\" has no OCI spec;"
          + " create it with one");
    }
    byte[] spec = container.getSpec().getValue().toByteArray();
    JsonObject json;
    try {
      JsonElement parsed = JsonParser.parseString(new String(spec, StandardCharsets.UTF_8));
      if (!parsed.isJsonObject()) {
        throw new IllegalStateException("not a JSON object");
      }
      json = parsed.getAsJsonObject();
    } catch (RuntimeException e) {
      throw new InvalidArgumentException("container \"" + id + "\": its spec is not valid OCI"
          + " runtime spec JSON (" + e.getMessage() + ")");
    }
    JsonElement process = json.get("process");
    if (process == null || !process.isJsonObject()
        || !process.getAsJsonObject().has("args")
        || !process.getAsJsonObject().get("args").isJsonArray()
        || process.getAsJsonObject().getAsJsonArray("args").isEmpty()) {
      throw new InvalidArgumentException("container \"" + id + "\": its spec has no"
          + " process.args; give the container a command");
    }
    JsonElement root = json.get("root");
    String rootPath = root != null && root.isJsonObject() && root.getAsJsonObject().has("path")
        ? root.getAsJsonObject().get("path").getAsString() : "";
    if (rootPath.isEmpty()) {
      throw new InvalidArgumentException("container \"" + id + "\": its spec has no"
          + " root.path");
    }
    if (!hasRootfs && !rootPath.startsWith("/")) {
      throw new FailedPreconditionException("container \"" + id + "\" has no root"
          + " filesystem: no rootfs mounts came with the task and its spec's root.path is"
          + " relative (" + rootPath + "); give the container a snapshot"
          + (container.getSnapshotKey().isEmpty() ? "" : " (its snapshot "
          + container.getSnapshotKey() + " must be mounted by the client)"));
    }
    return json;
  }

  /** Finds the tasks a previous run of the daemon left, as the class comment says. */
  private void restore() {
    for (Bundle bundle : Bundle.all(tasksDir)) {
      Optional<ShimBinary> binary = bundle.shim();
      Optional<String> address = bundle.address();
      if (binary.isEmpty()) {
        LOG.log(Level.WARNING, "task bundle " + bundle.dir() + " has no runtime record;"
            + " removing it");
        quietly(bundle::remove);
        continue;
      }
      ShimClient shim = null;
      if (address.isPresent()) {
        try {
          shim = connections.acquire(address.get(), bundle.namespace());
          ConnectResponse connected = shim.call("Connect", ConnectRequest.newBuilder()
              .setId(bundle.id()).build(), ConnectResponse.parser(), Duration.ofSeconds(5));
          ShimBinary.relayExistingLog(bundle.namespace(), bundle.id(), bundle.dir());
          StateResponse state = shim.call("State", StateRequest.newBuilder()
              .setId(bundle.id()).build(), StateResponse.parser(), Duration.ofSeconds(5));
          tasks.put(key(bundle.namespace(), bundle.id()), new Task(bundle, binary.get(), shim));
          LOG.log(Level.INFO, "task {0}/{1} restored ({2}, shim pid {3}, task pid {4})",
              bundle.namespace(), bundle.id(), state.getStatus(), connected.getShimPid(),
              connected.getTaskPid());
          reportMissedExit(bundle, state);
          continue;
        } catch (IOException | RuntimeException e) {
          LOG.log(Level.INFO, "task {0}/{1}: shim gone ({2}); cleaning up",
              bundle.namespace(), bundle.id(), e.getMessage());
          if (shim != null) {
            shutdown(shim, bundle.id()); // a shim that lost its task is of no use
          }
        }
      }
      cleanUpDead(bundle, binary.get());
    }
  }

  /** A task that exited while the daemon was down: its exit is published now. */
  private void reportMissedExit(Bundle bundle, StateResponse state) {
    if (state.getStatus() == Status.STOPPED) {
      publish(bundle.namespace(), "/tasks/exit", TaskExit.newBuilder()
          .setContainerId(bundle.id()).setId(bundle.id()).setPid(state.getPid())
          .setExitStatus(state.getExitStatus()).setExitedAt(state.getExitedAt()).build());
    }
  }

  private void cleanUpDead(Bundle bundle, ShimBinary binary) {
    DeleteResponse deleted = DeleteResponse.getDefaultInstance();
    if (Files.isExecutable(binary.binary())) {
      try {
        deleted = binary.delete(bundle.namespace(), bundle.id(), bundle.dir(), daemon);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "shim delete for " + bundle.id() + ": " + e.getMessage());
      }
    }
    Timestamp exitedAt = deleted.hasExitedAt() ? deleted.getExitedAt() : now();
    int status = deleted.getExitStatus() == 0 && !deleted.hasExitedAt() ? 255
        : deleted.getExitStatus();
    publish(bundle.namespace(), "/tasks/exit", TaskExit.newBuilder().setContainerId(bundle.id())
        .setId(bundle.id()).setPid(deleted.getPid()).setExitStatus(status)
        .setExitedAt(exitedAt).build());
    publish(bundle.namespace(), "/tasks/delete", TaskDelete.newBuilder()
        .setContainerId(bundle.id()).setId(bundle.id()).setPid(deleted.getPid())
        .setExitStatus(status).setExitedAt(exitedAt).build());
    quietly(bundle::remove);
  }

  private void publish(String namespace, String topic, com.google.protobuf.Message event) {
    if (publisher != null) {
      publisher.publish(namespace, topic, event);
    }
  }

  private static Timestamp now() {
    java.time.Instant now = java.time.Instant.now();
    return Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano())
        .build();
  }

  private static void quietly(Runnable action) {
    try {
      action.run();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, e.getMessage());
    }
  }
}
