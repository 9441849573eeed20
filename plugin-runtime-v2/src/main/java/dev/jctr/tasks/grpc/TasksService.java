package dev.jctr.tasks.grpc;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotImplementedException;
import dev.jctr.api.filters.Fields;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.services.tasks.v1.CheckpointTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.CheckpointTaskResponse;
import dev.jctr.api.proto.containerd.services.tasks.v1.CloseIORequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.CreateTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.CreateTaskResponse;
import dev.jctr.api.proto.containerd.services.tasks.v1.DeleteProcessRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.DeleteResponse;
import dev.jctr.api.proto.containerd.services.tasks.v1.DeleteTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ExecProcessRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.GetRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.GetResponse;
import dev.jctr.api.proto.containerd.services.tasks.v1.KillRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ListPidsRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ListPidsResponse;
import dev.jctr.api.proto.containerd.services.tasks.v1.ListTasksRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ListTasksResponse;
import dev.jctr.api.proto.containerd.services.tasks.v1.MetricsRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.MetricsResponse;
import dev.jctr.api.proto.containerd.services.tasks.v1.PauseTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ResizePtyRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ResumeTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.StartRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.StartResponse;
import dev.jctr.api.proto.containerd.services.tasks.v1.TasksGrpc;
import dev.jctr.api.proto.containerd.services.tasks.v1.UpdateTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.WaitRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.WaitResponse;
import dev.jctr.api.proto.containerd.task.v2.PauseRequest;
import dev.jctr.api.proto.containerd.task.v2.PidsRequest;
import dev.jctr.api.proto.containerd.task.v2.PidsResponse;
import dev.jctr.api.proto.containerd.task.v2.ResumeRequest;
import dev.jctr.api.proto.containerd.task.v2.StateRequest;
import dev.jctr.api.proto.containerd.task.v2.StateResponse;
import dev.jctr.api.proto.containerd.task.v2.StatsRequest;
import dev.jctr.api.proto.containerd.task.v2.StatsResponse;
import dev.jctr.api.proto.containerd.types.Metric;
import dev.jctr.api.proto.containerd.types.task.Process;
import dev.jctr.api.proto.containerd.types.task.Status;
import dev.jctr.tasks.shim.TaskManager;
import dev.jctr.tasks.shim.TaskManager.Task;
import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code containerd.services.tasks.v1.Tasks}: each call goes to the shim of the container's
 * task, in the call's namespace; the shim's answer and status come back as they are.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.tasks")
@Plugin(type = PluginTypes.GRPC, id = "tasks", requires = {PluginTypes.RUNTIME_V2,
    PluginTypes.METADATA})
public final class TasksService implements TasksGrpc.AsyncService, BindableService {

  private final TaskManager manager;

  @Activate
  public TasksService(@Reference TaskManager manager) {
    this.manager = manager;
  }

  @Override
  public ServerServiceDefinition bindService() {
    return TasksGrpc.bindService(this);
  }

  private static <T> void reply(StreamObserver<T> response, T message) {
    response.onNext(message);
    response.onCompleted();
  }

  private Task task(String id) {
    return manager.get(CallNamespace.required(), id);
  }

  @Override
  public void create(CreateTaskRequest request, StreamObserver<CreateTaskResponse> response) {
    if (request.hasCheckpoint()) {
      throw new NotImplementedException("checkpoint restore is not supported");
    }
    var created = manager.create(CallNamespace.required(),
        dev.jctr.api.proto.containerd.task.v2.CreateTaskRequest.newBuilder()
            .setId(request.getContainerId()).addAllRootfs(request.getRootfsList())
            .setTerminal(request.getTerminal()).setStdin(request.getStdin())
            .setStdout(request.getStdout()).setStderr(request.getStderr())
            .setOptions(request.hasOptions() ? request.getOptions()
                : com.google.protobuf.Any.getDefaultInstance())
            .build());
    reply(response, CreateTaskResponse.newBuilder().setContainerId(request.getContainerId())
        .setPid(created.getPid()).build());
  }

  @Override
  public void start(StartRequest request, StreamObserver<StartResponse> response) {
    var started = task(request.getContainerId()).shim().call("Start",
        dev.jctr.api.proto.containerd.task.v2.StartRequest.newBuilder()
            .setId(request.getContainerId()).setExecId(request.getExecId()).build(),
        dev.jctr.api.proto.containerd.task.v2.StartResponse.parser());
    reply(response, StartResponse.newBuilder().setPid(started.getPid()).build());
  }

  @Override
  public void delete(DeleteTaskRequest request, StreamObserver<DeleteResponse> response) {
    var deleted = manager.delete(CallNamespace.required(), request.getContainerId());
    reply(response, DeleteResponse.newBuilder().setId(request.getContainerId())
        .setPid(deleted.getPid()).setExitStatus(deleted.getExitStatus())
        .setExitedAt(deleted.getExitedAt()).build());
  }

  @Override
  public void deleteProcess(DeleteProcessRequest request,
      StreamObserver<DeleteResponse> response) {
    requireExecId(request.getExecId());
    var deleted = task(request.getContainerId()).shim().call("Delete",
        dev.jctr.api.proto.containerd.task.v2.DeleteRequest.newBuilder()
            .setId(request.getContainerId()).setExecId(request.getExecId()).build(),
        dev.jctr.api.proto.containerd.task.v2.DeleteResponse.parser());
    reply(response, DeleteResponse.newBuilder().setId(request.getExecId())
        .setPid(deleted.getPid()).setExitStatus(deleted.getExitStatus())
        .setExitedAt(deleted.getExitedAt()).build());
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> response) {
    Task task = task(request.getContainerId());
    reply(response, GetResponse.newBuilder().setProcess(process(task, request.getExecId()))
        .build());
  }

  private static Process process(Task task, String execId) {
    StateResponse state = task.shim().call("State", StateRequest.newBuilder()
        .setId(task.id()).setExecId(execId).build(), StateResponse.parser());
    return Process.newBuilder().setContainerId(task.id())
        .setId(execId.isEmpty() ? task.id() : execId).setPid(state.getPid())
        .setStatus(state.getStatus()).setStdin(state.getStdin()).setStdout(state.getStdout())
        .setStderr(state.getStderr()).setTerminal(state.getTerminal())
        .setExitStatus(state.getExitStatus()).setExitedAt(state.getExitedAt()).build();
  }

  @Override
  public void list(ListTasksRequest request, StreamObserver<ListTasksResponse> response) {
    ListTasksResponse.Builder list = ListTasksResponse.newBuilder();
    for (Task task : manager.list(CallNamespace.required())) {
      try {
        list.addTasks(process(task, ""));
      } catch (RuntimeException e) {
        // a shim that does not answer: the task is listed, its state unknown
        list.addTasks(Process.newBuilder().setContainerId(task.id()).setId(task.id())
            .setStatus(Status.UNKNOWN));
      }
    }
    reply(response, list.build());
  }

  @Override
  public void kill(KillRequest request, StreamObserver<Empty> response) {
    task(request.getContainerId()).shim().call("Kill",
        dev.jctr.api.proto.containerd.task.v2.KillRequest.newBuilder()
            .setId(request.getContainerId()).setExecId(request.getExecId())
            .setSignal(request.getSignal()).setAll(request.getAll()).build());
    reply(response, Empty.getDefaultInstance());
  }

  @Override
  public void exec(ExecProcessRequest request, StreamObserver<Empty> response) {
    requireExecId(request.getExecId());
    if (!request.hasSpec()) {
      throw new InvalidArgumentException("exec " + request.getExecId()
          + " needs a process spec");
    }
    task(request.getContainerId()).shim().call("Exec",
        dev.jctr.api.proto.containerd.task.v2.ExecProcessRequest.newBuilder()
            .setId(request.getContainerId()).setExecId(request.getExecId())
            .setTerminal(request.getTerminal()).setStdin(request.getStdin())
            .setStdout(request.getStdout()).setStderr(request.getStderr())
            .setSpec(request.getSpec()).build());
    reply(response, Empty.getDefaultInstance());
  }

  private static void requireExecId(String execId) {
    if (execId.isEmpty()) {
      throw new InvalidArgumentException("exec id must not be empty");
    }
  }

  @Override
  public void resizePty(ResizePtyRequest request, StreamObserver<Empty> response) {
    task(request.getContainerId()).shim().call("ResizePty",
        dev.jctr.api.proto.containerd.task.v2.ResizePtyRequest.newBuilder()
            .setId(request.getContainerId()).setExecId(request.getExecId())
            .setWidth(request.getWidth()).setHeight(request.getHeight()).build());
    reply(response, Empty.getDefaultInstance());
  }

  @Override
  public void closeIO(CloseIORequest request, StreamObserver<Empty> response) {
    task(request.getContainerId()).shim().call("CloseIO",
        dev.jctr.api.proto.containerd.task.v2.CloseIORequest.newBuilder()
            .setId(request.getContainerId()).setExecId(request.getExecId())
            .setStdin(request.getStdin()).build());
    reply(response, Empty.getDefaultInstance());
  }

  @Override
  public void pause(PauseTaskRequest request, StreamObserver<Empty> response) {
    task(request.getContainerId()).shim().call("Pause",
        PauseRequest.newBuilder().setId(request.getContainerId()).build());
    reply(response, Empty.getDefaultInstance());
  }

  @Override
  public void resume(ResumeTaskRequest request, StreamObserver<Empty> response) {
    task(request.getContainerId()).shim().call("Resume",
        ResumeRequest.newBuilder().setId(request.getContainerId()).build());
    reply(response, Empty.getDefaultInstance());
  }

  @Override
  public void listPids(ListPidsRequest request, StreamObserver<ListPidsResponse> response) {
    PidsResponse pids = task(request.getContainerId()).shim().call("Pids",
        PidsRequest.newBuilder().setId(request.getContainerId()).build(),
        PidsResponse.parser());
    reply(response, ListPidsResponse.newBuilder().addAllProcesses(pids.getProcessesList())
        .build());
  }

  @Override
  public void checkpoint(CheckpointTaskRequest request,
      StreamObserver<CheckpointTaskResponse> response) {
    throw new NotImplementedException("checkpoint is not supported (no CRIU here)");
  }

  @Override
  public void update(UpdateTaskRequest request, StreamObserver<Empty> response) {
    task(request.getContainerId()).shim().call("Update",
        dev.jctr.api.proto.containerd.task.v2.UpdateTaskRequest.newBuilder()
            .setId(request.getContainerId()).setResources(request.getResources())
            .putAllAnnotations(request.getAnnotationsMap()).build());
    reply(response, Empty.getDefaultInstance());
  }

  @Override
  public void metrics(MetricsRequest request, StreamObserver<MetricsResponse> response) {
    Filter filter = Filter.parseAny(request.getFiltersList());
    MetricsResponse.Builder metrics = MetricsResponse.newBuilder();
    for (Task task : manager.list(CallNamespace.required())) {
      if (!filter.matches(Fields.of(Map.of("id", task.id(), "namespace", task.namespace()),
          Map.of()))) {
        continue;
      }
      StatsResponse stats = task.shim().call("Stats", StatsRequest.newBuilder()
          .setId(task.id()).build(), StatsResponse.parser());
      Instant now = Instant.now();
      metrics.addMetrics(Metric.newBuilder().setId(task.id()).setData(stats.getStats())
          .setTimestamp(Timestamp.newBuilder().setSeconds(now.getEpochSecond())
              .setNanos(now.getNano())));
    }
    reply(response, metrics.build());
  }

  @Override
  public void wait(WaitRequest request, StreamObserver<WaitResponse> response) {
    // blocks this call's (virtual) thread until the process exits; no deadline of our own
    var exited = task(request.getContainerId()).shim().call("Wait",
        dev.jctr.api.proto.containerd.task.v2.WaitRequest.newBuilder()
            .setId(request.getContainerId()).setExecId(request.getExecId()).build(),
        dev.jctr.api.proto.containerd.task.v2.WaitResponse.parser(), null);
    reply(response, WaitResponse.newBuilder().setExitStatus(exited.getExitStatus())
        .setExitedAt(exited.getExitedAt()).build());
  }
}
