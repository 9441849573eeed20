package dev.jctr.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.GetContainerRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.DeleteProcessRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.DeleteResponse;
import dev.jctr.api.proto.containerd.services.tasks.v1.DeleteTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ExecProcessRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.GetRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.KillRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ListPidsRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ListTasksRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.MetricsRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.PauseTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ResumeTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.StartRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.TasksGrpc;
import dev.jctr.api.proto.containerd.services.tasks.v1.WaitRequest;
import dev.jctr.api.proto.containerd.types.Metric;
import dev.jctr.api.proto.containerd.types.task.Process;
import dev.jctr.api.proto.containerd.types.task.ProcessInfo;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** {@code jctr tasks}: the running side of containers in the current namespace. */
final class TasksCommand {

  private static final Map<String, Integer> SIGNALS = Map.ofEntries(Map.entry("HUP", 1),
      Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("KILL", 9), Map.entry("USR1", 10),
      Map.entry("USR2", 12), Map.entry("TERM", 15), Map.entry("CONT", 18),
      Map.entry("STOP", 19));

  private TasksCommand() {}

  static Command command() {
    return Command.named("tasks", "task", "t")
        .describe("Manage tasks (the processes of containers).")
        .subcommands(
            Command.named("list", "ls").describe("List tasks: TASK, PID, STATUS.")
                .option(Option.flag("print only the ids", "-q", "--quiet"))
                .runs(TasksCommand::list),
            Command.named("attach").describe("Attach to a task's output (and, with a"
                    + " terminal, its input) until it exits; its exit code becomes jctr's.")
                .positional("ID", "the container").runs(TasksCommand::attach),
            Command.named("start").describe("Start a created task and return.")
                .positional("ID", "the container").runs(TasksCommand::start),
            Command.named("kill").describe("Signal a task (default SIGTERM).")
                .option(Option.value("SIGNAL", "name or number", "-s", "--signal")
                    .withDefault("TERM"))
                .option(Option.flag("signal every process of the task", "-a", "--all"))
                .option(Option.value("ID", "an exec process instead of the init",
                    "--exec-id").withDefault(""))
                .positional("ID", "the container").runs(TasksCommand::kill),
            Command.named("ps").describe("List the task's processes.")
                .positional("ID", "the container").runs(TasksCommand::ps),
            Command.named("pause").describe("Freeze a task.")
                .positional("ID", "the container").runs(TasksCommand::pause),
            Command.named("resume").describe("Thaw a paused task.")
                .positional("ID", "the container").runs(TasksCommand::resume),
            Command.named("delete", "rm").describe("Delete stopped tasks; prints exit codes.")
                .option(Option.value("ID", "delete this exec process", "--exec-id")
                    .withDefault(""))
                .positionals("ID", 1, Command.MANY, "the containers")
                .runs(TasksCommand::delete),
            Command.named("exec").describe("Run a process in a running task; its exit code"
                    + " becomes jctr's.")
                .option(Option.value("ID", "the exec id (unique in the task)", "--exec-id"))
                .option(Option.flag("detach: start it and return", "-d", "--detach"))
                .option(Option.flag("a terminal for the process, our keys its input", "-t",
                    "--tty"))
                .option(Option.value("DIR", "working directory", "--cwd").withDefault(""))
                .positional("ID", "the container")
                .positionals("CMD", 1, Command.MANY, "command and arguments")
                .optionsEndAfter(1)
                .runs(TasksCommand::exec),
            Command.named("metrics", "metric").describe("Print a task's runtime statistics"
                    + " (JSON).")
                .positional("ID", "the container").runs(TasksCommand::metrics));
  }

  private static int list(Jctr root, Parsed args) {
    List<Process> tasks = root.call(TasksGrpc.getListMethod(),
        ListTasksRequest.getDefaultInstance()).getTasksList();
    if (root.json()) {
      JsonArray array = new JsonArray();
      for (Process task : tasks) {
        JsonObject json = new JsonObject();
        json.addProperty("id", task.getContainerId());
        json.addProperty("pid", task.getPid());
        json.addProperty("status", task.getStatus().name());
        json.addProperty("exit_status", task.getExitStatus());
        array.add(json);
      }
      root.out().println(array);
    } else if (args.flag("--quiet")) {
      tasks.forEach(t -> root.out().println(t.getContainerId()));
    } else {
      Table table = new Table("TASK", "PID", "STATUS");
      tasks.forEach(t -> table.row(t.getContainerId(), Integer.toString(t.getPid()),
          t.getStatus().name()));
      table.print(root.out());
    }
    return 0;
  }

  private static int attach(Jctr root, Parsed args) throws Exception {
    String id = args.positional(0);
    Process task = root.call(TasksGrpc.getGetMethod(), GetRequest.newBuilder()
        .setContainerId(id).build()).getProcess();
    if (task.getStdout().isEmpty() && task.getStderr().isEmpty()) {
      throw new IllegalStateException("task \"" + id + "\" has no output to attach to (it"
          + " was created without fifos; jctr run -d keeps them)");
    }
    int[] status = new int[1];
    TaskIo.attach(task.getStdin(), task.getStdout(), task.getStderr(), task.getTerminal(), root,
        id, "", () -> {
          var waited = root.stream(TasksGrpc.getWaitMethod(), WaitRequest.newBuilder()
              .setContainerId(id).build());
          status[0] = waited.next().getExitStatus();
          waited.hasNext();
          return status[0];
        });
    return status[0];
  }

  private static int start(Jctr root, Parsed args) {
    root.call(TasksGrpc.getStartMethod(), StartRequest.newBuilder()
        .setContainerId(args.positional(0)).build());
    return 0;
  }

  private static int kill(Jctr root, Parsed args) {
    root.call(TasksGrpc.getKillMethod(), KillRequest.newBuilder()
        .setContainerId(args.positional(0)).setExecId(args.value("--exec-id"))
        .setSignal(signal(args)).setAll(args.flag("--all")).build());
    return 0;
  }

  private static int signal(Parsed args) {
    String name = args.value("--signal").toUpperCase().replaceFirst("^SIG", "");
    Integer number = SIGNALS.get(name);
    if (number != null) {
      return number;
    }
    try {
      return Integer.parseInt(name);
    } catch (NumberFormatException e) {
      throw new UsageException(args.command(), "--signal: \"" + args.value("--signal")
          + "\" is not a signal name (" + String.join(", ", SIGNALS.keySet()) + ") or number");
    }
  }

  private static int ps(Jctr root, Parsed args) {
    List<ProcessInfo> processes = root.call(TasksGrpc.getListPidsMethod(),
        ListPidsRequest.newBuilder().setContainerId(args.positional(0)).build())
        .getProcessesList();
    Table table = new Table("PID");
    processes.forEach(p -> table.row(Integer.toString(p.getPid())));
    table.print(root.out());
    return 0;
  }

  private static int pause(Jctr root, Parsed args) {
    root.call(TasksGrpc.getPauseMethod(), PauseTaskRequest.newBuilder()
        .setContainerId(args.positional(0)).build());
    return 0;
  }

  private static int resume(Jctr root, Parsed args) {
    root.call(TasksGrpc.getResumeMethod(), ResumeTaskRequest.newBuilder()
        .setContainerId(args.positional(0)).build());
    return 0;
  }

  private static int delete(Jctr root, Parsed args) throws java.io.IOException {
    for (String id : args.positionals()) {
      Process before = args.value("--exec-id").isEmpty() ? root.call(TasksGrpc.getGetMethod(),
          GetRequest.newBuilder().setContainerId(id).build()).getProcess() : null;
      DeleteResponse deleted = args.value("--exec-id").isEmpty()
          ? root.call(TasksGrpc.getDeleteMethod(), DeleteTaskRequest.newBuilder()
              .setContainerId(id).build())
          : root.call(TasksGrpc.getDeleteProcessMethod(), DeleteProcessRequest.newBuilder()
              .setContainerId(id).setExecId(args.value("--exec-id")).build());
      if (before != null) {
        TaskIo.removeFifos(before.getStdin(), before.getStdout(), before.getStderr());
      }
      root.out().println(id + " exited " + deleted.getExitStatus());
    }
    return 0;
  }

  /** An exec: the task's process spec with our command, output through fifos to ours. */
  private static int exec(Jctr root, Parsed args) throws Exception {
    String id = args.positional(0);
    String execId = args.value("--exec-id");
    if (execId == null || execId.isEmpty()) {
      execId = "exec-" + Long.toHexString(System.nanoTime());
    }
    var container = root.call(ContainersGrpc.getGetMethod(), GetContainerRequest.newBuilder()
        .setId(id).build()).getContainer();
    JsonObject spec = com.google.gson.JsonParser.parseString(container.getSpec().getValue()
        .toStringUtf8()).getAsJsonObject();
    JsonObject process = spec.getAsJsonObject("process").deepCopy();
    JsonArray argv = new JsonArray();
    args.positionalsFrom(1).forEach(argv::add);
    process.add("args", argv);
    boolean terminal = args.flag("--tty") && !args.flag("--detach");
    process.addProperty("terminal", terminal);
    if (!args.value("--cwd").isEmpty()) {
      process.addProperty("cwd", args.value("--cwd"));
    }
    Any processSpec = Any.newBuilder()
        .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Process")
        .setValue(ByteString.copyFrom(process.toString(), StandardCharsets.UTF_8)).build();
    if (args.flag("--detach")) {
      root.call(TasksGrpc.getExecMethod(), ExecProcessRequest.newBuilder().setContainerId(id)
          .setExecId(execId).setSpec(processSpec).build());
      root.call(TasksGrpc.getStartMethod(), StartRequest.newBuilder().setContainerId(id)
          .setExecId(execId).build());
      return 0;
    }
    try (TaskIo io = TaskIo.create(terminal)) {
      io.start();
      root.call(TasksGrpc.getExecMethod(), ExecProcessRequest.newBuilder().setContainerId(id)
          .setExecId(execId).setSpec(processSpec).setTerminal(terminal).setStdin(io.stdin())
          .setStdout(io.stdout()).setStderr(io.stderr()).build());
      try {
        root.call(TasksGrpc.getStartMethod(), StartRequest.newBuilder().setContainerId(id)
            .setExecId(execId).build());
        io.resize(root, id, execId);
        var waited = root.stream(TasksGrpc.getWaitMethod(), WaitRequest.newBuilder()
            .setContainerId(id).setExecId(execId).build());
        int status = waited.next().getExitStatus();
        waited.hasNext(); // the call ends with its one answer
        io.finish();
        return status;
      } finally {
        root.call(TasksGrpc.getDeleteProcessMethod(), DeleteProcessRequest.newBuilder()
            .setContainerId(id).setExecId(execId).build());
      }
    }
  }

  private static int metrics(Jctr root, Parsed args) {
    List<Metric> metrics = root.call(TasksGrpc.getMetricsMethod(), MetricsRequest.newBuilder()
        .addFilters("id==" + args.positional(0)).build()).getMetricsList();
    if (metrics.isEmpty()) {
      throw new IllegalStateException("task \"" + args.positional(0) + "\" not found");
    }
    for (Metric metric : metrics) {
      root.out().println(metric.getData().getValue().toStringUtf8());
    }
    return 0;
  }
}
