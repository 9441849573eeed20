package dev.jctr.shim;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.errors.NotImplementedException;
import dev.jctr.api.proto.containerd.events.TaskCreate;
import dev.jctr.api.proto.containerd.events.TaskDelete;
import dev.jctr.api.proto.containerd.events.TaskExecAdded;
import dev.jctr.api.proto.containerd.events.TaskExecStarted;
import dev.jctr.api.proto.containerd.events.TaskExit;
import dev.jctr.api.proto.containerd.events.TaskIO;
import dev.jctr.api.proto.containerd.events.TaskPaused;
import dev.jctr.api.proto.containerd.events.TaskResumed;
import dev.jctr.api.proto.containerd.events.TaskStart;
import dev.jctr.api.proto.containerd.runc.options.Options;
import dev.jctr.api.proto.containerd.task.v2.CloseIORequest;
import dev.jctr.api.proto.containerd.task.v2.ConnectRequest;
import dev.jctr.api.proto.containerd.task.v2.ConnectResponse;
import dev.jctr.api.proto.containerd.task.v2.CreateTaskRequest;
import dev.jctr.api.proto.containerd.task.v2.CreateTaskResponse;
import dev.jctr.api.proto.containerd.task.v2.DeleteRequest;
import dev.jctr.api.proto.containerd.task.v2.DeleteResponse;
import dev.jctr.api.proto.containerd.task.v2.ExecProcessRequest;
import dev.jctr.api.proto.containerd.task.v2.KillRequest;
import dev.jctr.api.proto.containerd.task.v2.PauseRequest;
import dev.jctr.api.proto.containerd.task.v2.PidsRequest;
import dev.jctr.api.proto.containerd.task.v2.PidsResponse;
import dev.jctr.api.proto.containerd.task.v2.ResizePtyRequest;
import dev.jctr.api.proto.containerd.task.v2.ResumeRequest;
import dev.jctr.api.proto.containerd.task.v2.ShutdownRequest;
import dev.jctr.api.proto.containerd.task.v2.StartRequest;
import dev.jctr.api.proto.containerd.task.v2.StartResponse;
import dev.jctr.api.proto.containerd.task.v2.StateRequest;
import dev.jctr.api.proto.containerd.task.v2.StateResponse;
import dev.jctr.api.proto.containerd.task.v2.StatsRequest;
import dev.jctr.api.proto.containerd.task.v2.StatsResponse;
import dev.jctr.api.proto.containerd.task.v2.UpdateTaskRequest;
import dev.jctr.api.proto.containerd.task.v2.WaitRequest;
import dev.jctr.api.proto.containerd.task.v2.WaitResponse;
import dev.jctr.api.proto.containerd.types.task.ProcessInfo;
import dev.jctr.api.proto.containerd.types.task.Status;
import dev.jctr.api.ttrpc.TtrpcServer;
import dev.jctr.runtime.linux.LinuxCalls;
import dev.jctr.runtime.runc.RuncRuntime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * {@code containerd.task.v2.Task} for every container this shim holds (one, or a group): runc
 * creates and starts them, the shim reaps them as their subreaper and reports each exit once,
 * by Wait, State and a {@code /tasks/exit} event.
 */
final class TaskService {

  static final String SERVICE = "containerd.task.v2.Task";

  /** A container: its init and its execs by id. */
  private record Container(ShimProcess init, RuncRuntime runc, Path rootfs, boolean mounted,
      Map<String, ShimProcess> execs) {}

  private final Map<String, Container> containers = new ConcurrentHashMap<>();
  private final String namespace;
  private final Path runcRoot;
  private final String defaultRunc;
  private final EventForwarder events;
  private final Idle idle;

  /** Told when the shim holds no container and when it holds one again. */
  interface Idle {
    void empty();

    void busy();
  }

  TaskService(String namespace, Path runcRoot, String defaultRunc, EventForwarder events,
      Idle idle) {
    this.namespace = namespace;
    this.runcRoot = runcRoot;
    this.defaultRunc = defaultRunc;
    this.events = events;
    this.idle = idle;
  }

  void register(TtrpcServer server) {
    method(server, "Create", CreateTaskRequest.parser(), this::create);
    method(server, "Start", StartRequest.parser(), this::start);
    method(server, "Delete", DeleteRequest.parser(), this::delete);
    method(server, "Exec", ExecProcessRequest.parser(), this::exec);
    method(server, "ResizePty", ResizePtyRequest.parser(), this::resizePty);
    method(server, "State", StateRequest.parser(), this::state);
    method(server, "Kill", KillRequest.parser(), this::kill);
    method(server, "Pids", PidsRequest.parser(), this::pids);
    method(server, "CloseIO", CloseIORequest.parser(), this::closeIO);
    method(server, "Pause", PauseRequest.parser(), this::pause);
    method(server, "Resume", ResumeRequest.parser(), this::resume);
    method(server, "Update", UpdateTaskRequest.parser(), this::update);
    method(server, "Wait", WaitRequest.parser(), this::waitFor);
    method(server, "Stats", StatsRequest.parser(), this::stats);
    method(server, "Connect", ConnectRequest.parser(), this::connect);
    method(server, "Shutdown", ShutdownRequest.parser(), this::shutdown);
    server.register(SERVICE, "Checkpoint", (payload, metadata) -> {
      throw new NotImplementedException("checkpoint is not supported by the jctr shim");
    });
  }

  private interface Handler<Q> {
    Message handle(Q request) throws Exception;
  }

  private static <Q> void method(TtrpcServer server, String name,
      com.google.protobuf.Parser<Q> parser, Handler<Q> handler) {
    server.register(SERVICE, name, (payload, metadata) ->
        handler.handle(parser.parseFrom(payload)).toByteArray());
  }

  private Container container(String id) {
    Container container = containers.get(id);
    if (container == null) {
      throw new NotFoundException("container \"" + id + "\" in namespace \"" + namespace
          + "\": not created in this shim");
    }
    return container;
  }

  private ShimProcess process(String id, String execId) {
    Container container = container(id);
    if (execId.isEmpty()) {
      return container.init();
    }
    ShimProcess exec = container.execs().get(execId);
    if (exec == null) {
      throw new NotFoundException("exec \"" + execId + "\" of container \"" + id
          + "\" does not exist");
    }
    return exec;
  }

  private Message create(CreateTaskRequest request) throws Exception {
    String id = request.getId();
    if (id.isEmpty() || request.getBundle().isEmpty()) {
      throw new InvalidArgumentException("create needs an id and a bundle");
    }
    Path bundle = Path.of(request.getBundle());
    RuncRuntime runc = new RuncRuntime(runcBinary(request.getOptions()),
        runcRoot.resolve(namespace));
    ShimProcess init = new ShimProcess(id, "", bundle, new ProcessStdio(request.getStdin(),
        request.getStdout(), request.getStderr()), request.getTerminal(), null);
    Container container = new Container(init, runc, bundle.resolve("rootfs"),
        request.getRootfsCount() > 0, new ConcurrentHashMap<>());
    if (containers.putIfAbsent(id, container) != null) {
      throw new AlreadyExistsException("container \"" + id + "\" already exists in this shim");
    }
    idle.busy();
    boolean mounted = false;
    try {
      if (request.getRootfsCount() > 0) {
        Mounts.mountAll(request.getRootfsList(), container.rootfs());
        mounted = true;
      }
      Path pidFile = bundle.resolve("init.pid");
      try {
        createWithStdio(init, (stdio, console) -> runc.create(id, bundle, pidFile, stdio,
            console));
      } catch (RuntimeException e) {
        throw new FailedPreconditionException("OCI runtime create failed: " + e.getMessage());
      }
      int pid = Integer.parseInt(Files.readString(pidFile).strip());
      init.watch(pid, this::exited);
      events.publish("/tasks/create", TaskCreate.newBuilder().setContainerId(id)
          .setBundle(request.getBundle()).addAllRootfs(request.getRootfsList())
          .setIo(TaskIO.newBuilder().setStdin(request.getStdin())
              .setStdout(request.getStdout()).setStderr(request.getStderr()))
          .setPid(pid).build());
      return CreateTaskResponse.newBuilder().setPid(pid).build();
    } catch (Exception e) {
      init.stdio.close();
      if (mounted) {
        Mounts.unmount(container.rootfs());
      }
      containers.remove(id);
      if (containers.isEmpty()) {
        idle.empty();
      }
      throw e;
    }
  }

  private interface RuncCall {
    void run(RuncRuntime.Stdio stdio, Path consoleSocket);
  }

  /**
   * Runs runc create/exec for {@code process}: its fifos straight as stdio, or, with a
   * terminal, a console socket whose pty the shim then copies to and from the fifos.
   */
  private void createWithStdio(ShimProcess process, RuncCall call) throws IOException {
    RuncRuntime.Stdio stdio = process.stdio.open();
    if (!process.terminal) {
      call.run(stdio, null);
      return;
    }
    String name = "c-" + Integer.toHexString((namespace + "/" + process.containerId + "/"
        + process.execId).hashCode()) + "-" + Long.toHexString(System.nanoTime()) + ".sock";
    Files.createDirectories(runcRoot);
    try (Console.Socket socket = new Console.Socket(runcRoot.resolve(name))) {
      call.run(new RuncRuntime.Stdio(null, null, null), socket.path());
      Console console = socket.console();
      process.console = console;
      console.copy(process.stdio.stdin(), process.stdio.stdout());
    }
  }

  private String runcBinary(Any options) {
    if (options.getTypeUrl().endsWith("containerd.runc.v1.Options")) {
      try {
        String binary = Options.parseFrom(options.getValue()).getBinaryName();
        if (!binary.isEmpty()) {
          return binary;
        }
      } catch (IOException e) {
        throw new InvalidArgumentException("runc options: " + e.getMessage());
      }
    }
    return defaultRunc;
  }

  /** A process was reaped: its exit is published; for an init, the execs are gone too. */
  private void exited(ShimProcess process) {
    ShimProcess.Exit exit = process.exit().join();
    events.publish("/tasks/exit", TaskExit.newBuilder().setContainerId(process.containerId)
        .setId(process.id()).setPid(process.pid()).setExitStatus(exit.status())
        .setExitedAt(exit.at()).build());
  }

  private Message start(StartRequest request) throws Exception {
    Container container = container(request.getId());
    ShimProcess process = process(request.getId(), request.getExecId());
    if (process.status() != Status.CREATED) {
      throw new FailedPreconditionException("process \"" + process.id() + "\" is "
          + process.status().name().toLowerCase() + ", not created");
    }
    if (process.execId.isEmpty()) {
      container.runc().start(request.getId());
      process.status(Status.RUNNING);
      events.publish("/tasks/start", TaskStart.newBuilder().setContainerId(request.getId())
          .setPid(process.pid()).build());
    } else {
      Path spec = process.bundle.resolve("exec-" + process.execId + ".json");
      Path pidFile = process.bundle.resolve("exec-" + process.execId + ".pid");
      Files.write(spec, process.execSpec);
      try {
        createWithStdio(process, (stdio, console) -> container.runc().exec(request.getId(),
            spec, pidFile, stdio, console));
      } catch (RuntimeException e) {
        process.stdio.close();
        throw new FailedPreconditionException("OCI runtime exec failed: " + e.getMessage());
      } finally {
        Files.deleteIfExists(spec);
      }
      int pid = Integer.parseInt(Files.readString(pidFile).strip());
      Files.deleteIfExists(pidFile);
      process.status(Status.RUNNING);
      process.watch(pid, this::exited);
      events.publish("/tasks/exec-started", TaskExecStarted.newBuilder()
          .setContainerId(request.getId()).setExecId(process.execId).setPid(pid).build());
    }
    return StartResponse.newBuilder().setPid(process.pid()).build();
  }

  private Message delete(DeleteRequest request) throws Exception {
    Container container = container(request.getId());
    ShimProcess process = process(request.getId(), request.getExecId());
    Status status = process.status();
    if (status == Status.RUNNING || status == Status.PAUSED) {
      throw new FailedPreconditionException("task must be stopped before deletion: "
          + status.name().toLowerCase());
    }
    ShimProcess.Exit exit = process.exit().getNow(new ShimProcess.Exit(0,
        com.google.protobuf.Timestamp.getDefaultInstance()));
    if (!process.execId.isEmpty()) {
      container.execs().remove(process.execId);
      return DeleteResponse.newBuilder().setPid(process.pid()).setExitStatus(exit.status())
          .setExitedAt(exit.at()).build();
    }
    // the init: runc forgets the container (a created one is killed), the rootfs goes
    container.runc().delete(request.getId(), status == Status.CREATED);
    process.stdio.close();
    if (container.mounted()) {
      Mounts.unmount(container.rootfs());
    }
    containers.remove(request.getId());
    if (status == Status.CREATED) {
      exit = process.exit().get(); // the kill above ended it; the reaper has its status
    }
    events.publish("/tasks/delete", TaskDelete.newBuilder().setContainerId(request.getId())
        .setId(request.getId()).setPid(process.pid()).setExitStatus(exit.status())
        .setExitedAt(exit.at()).build());
    if (containers.isEmpty()) {
      idle.empty();
    }
    return DeleteResponse.newBuilder().setPid(process.pid()).setExitStatus(exit.status())
        .setExitedAt(exit.at()).build();
  }

  private Message exec(ExecProcessRequest request) throws Exception {
    Container container = container(request.getId());
    if (request.getExecId().isEmpty()) {
      throw new InvalidArgumentException("exec id must not be empty");
    }
    if (container.init().status() == Status.STOPPED) {
      throw new FailedPreconditionException("container \"" + request.getId()
          + "\" has stopped; nothing can be executed in it");
    }
    byte[] spec = request.getSpec().getValue().toByteArray();
    ShimProcess exec = new ShimProcess(request.getId(), request.getExecId(),
        container.init().bundle, new ProcessStdio(request.getStdin(), request.getStdout(),
        request.getStderr()), request.getTerminal(), spec);
    if (container.execs().putIfAbsent(request.getExecId(), exec) != null) {
      throw new AlreadyExistsException("exec process \"" + request.getExecId()
          + "\" of container \"" + request.getId() + "\" already exists");
    }
    events.publish("/tasks/exec-added", TaskExecAdded.newBuilder()
        .setContainerId(request.getId()).setExecId(request.getExecId()).build());
    return Empty.getDefaultInstance();
  }

  private Message resizePty(ResizePtyRequest request) {
    ShimProcess process = process(request.getId(), request.getExecId());
    Console console = process.console;
    if (!process.terminal || console == null) {
      throw new FailedPreconditionException("process \"" + process.id()
          + "\" has no terminal to resize");
    }
    console.resize(request.getWidth(), request.getHeight());
    return Empty.getDefaultInstance();
  }

  private Message state(StateRequest request) {
    ShimProcess process = process(request.getId(), request.getExecId());
    StateResponse.Builder state = StateResponse.newBuilder().setId(process.id())
        .setBundle(process.bundle.toString()).setPid(process.pid())
        .setStatus(process.status()).setStdin(process.stdio.stdin())
        .setStdout(process.stdio.stdout()).setStderr(process.stdio.stderr())
        .setTerminal(process.terminal).setExecId(process.execId);
    ShimProcess.Exit exit = process.exit().getNow(null);
    if (exit != null) {
      state.setExitStatus(exit.status()).setExitedAt(exit.at());
    }
    return state.build();
  }

  private Message kill(KillRequest request) {
    Container container = container(request.getId());
    ShimProcess process = process(request.getId(), request.getExecId());
    if (process.status() == Status.STOPPED) {
      throw new NotFoundException("process \"" + process.id() + "\" already finished");
    }
    if (process.execId.isEmpty()) {
      container.runc().kill(request.getId(), request.getSignal(), request.getAll());
    } else if (process.pid() == 0 || !LinuxCalls.kill(process.pid(), request.getSignal())) {
      throw new NotFoundException("process \"" + process.id() + "\" is not running");
    }
    return Empty.getDefaultInstance();
  }

  private Message pids(PidsRequest request) {
    Container container = container(request.getId());
    PidsResponse.Builder pids = PidsResponse.newBuilder();
    for (int pid : container.runc().ps(request.getId())) {
      pids.addProcesses(ProcessInfo.newBuilder().setPid(pid));
    }
    return pids.build();
  }

  private Message closeIO(CloseIORequest request) {
    ShimProcess process = process(request.getId(), request.getExecId());
    if (request.getStdin()) {
      process.stdio.closeStdin();
    }
    return Empty.getDefaultInstance();
  }

  private Message pause(PauseRequest request) {
    Container container = container(request.getId());
    container.runc().pause(request.getId());
    container.init().status(Status.PAUSED);
    events.publish("/tasks/paused", TaskPaused.newBuilder().setContainerId(request.getId())
        .build());
    return Empty.getDefaultInstance();
  }

  private Message resume(ResumeRequest request) {
    Container container = container(request.getId());
    container.runc().resume(request.getId());
    container.init().status(Status.RUNNING);
    events.publish("/tasks/resumed", TaskResumed.newBuilder().setContainerId(request.getId())
        .build());
    return Empty.getDefaultInstance();
  }

  private Message update(UpdateTaskRequest request) throws IOException {
    Container container = container(request.getId());
    if (!request.hasResources()) {
      return Empty.getDefaultInstance();
    }
    Path resources = container.init().bundle.resolve("resources.json");
    Files.write(resources, request.getResources().getValue().toByteArray());
    try {
      container.runc().update(request.getId(), resources);
    } finally {
      Files.deleteIfExists(resources);
    }
    return Empty.getDefaultInstance();
  }

  private Message waitFor(WaitRequest request) throws InterruptedException {
    ShimProcess process = process(request.getId(), request.getExecId());
    try {
      ShimProcess.Exit exit = process.exit().get();
      return WaitResponse.newBuilder().setExitStatus(exit.status()).setExitedAt(exit.at())
          .build();
    } catch (ExecutionException e) {
      throw new FailedPreconditionException("wait: " + e.getCause().getMessage());
    }
  }

  /** runc's own statistics sample, as JSON. */
  private Message stats(StatsRequest request) {
    Container container = container(request.getId());
    String json = container.runc().stats(request.getId());
    return StatsResponse.newBuilder().setStats(Any.newBuilder()
        .setTypeUrl("jctr.dev/runc/events.Stats")
        .setValue(ByteString.copyFrom(json, StandardCharsets.UTF_8))).build();
  }

  private Message connect(ConnectRequest request) {
    Container container = containers.get(request.getId());
    return ConnectResponse.newBuilder().setShimPid((int) ProcessHandle.current().pid())
        .setTaskPid(container == null ? 0 : container.init().pid())
        .setVersion("jctr-shim-v2").build();
  }

  private Message shutdown(ShutdownRequest request) {
    if (containers.isEmpty()) {
      idle.empty();
    }
    return Empty.getDefaultInstance();
  }

  /** The containers still held, for a shim that is asked to go. */
  boolean isEmpty() {
    return containers.isEmpty();
  }
}
