package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.CreateTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.TasksGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tasks through the real daemon with real runc: Debian's {@code ctr run} against jctrd,
 * driving Debian's {@code containerd-shim-runc-v2}; exec, pause, kill, exit codes; bad input
 * refused with nothing left behind (bundle, mount, shim).
 */
class TasksProcessTest {

  private static final Duration READY = Duration.ofSeconds(20);
  private static final Duration COMMAND = Duration.ofSeconds(60);
  private static final String IMAGE = "docker.io/library/busybox:latest";
  private static final String RUNC = "io.containerd.runc.v2";

  @TempDir static Path shared;
  private static DaemonProcess daemon;
  private static String ctr;

  @BeforeAll
  static void startDaemon() throws Exception {
    ctr = Commands.requireTool("ctr", "containerd");
    Commands.requireTool("containerd-shim-runc-v2", "containerd");
    Commands.requireTool("runc", "runc");
    Path image = Distribution.busyboxImage(Files.createDirectories(shared.resolve("image")));
    daemon = DaemonProcess.start(shared).awaitReady(READY).awaitServing(READY, "images", "ls");
    for (String ns : List.of("default", "detached", "bad")) {
      daemon.jctr("-n", ns, "images", "import", image.toString()).requireSuccess("import");
    }
  }

  @AfterAll
  static void stopDaemon() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
  }

  static CommandResult ctr(String... args) {
    List<String> command = new ArrayList<>(List.of(ctr, "--address",
        daemon.socket().toString()));
    command.addAll(List.of(args));
    return Commands.run(COMMAND, command);
  }

  private static Path bundles(String namespace) {
    return shared.resolve("state/io.containerd.runtime.v2.task").resolve(namespace);
  }

  /** Nothing of a task remains: no bundle directory, no mount under the test's directory. */
  static void assertNothingLeft(Path root, String namespace, String id) throws Exception {
    Path bundle = root.resolve("state/io.containerd.runtime.v2.task").resolve(namespace)
        .resolve(id);
    assertFalse(Files.exists(bundle), "bundle left behind: " + bundle);
    String mounts = Files.readString(Path.of("/proc/self/mounts"));
    assertFalse(mounts.contains(bundle.toString()), "mount left behind:\n" + mounts);
    try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
      List<String> shims = all.map(p -> p.info().commandLine().orElse(""))
          .filter(line -> line.contains("containerd-shim") && line.contains(" -id " + id + " ")
              && line.contains(root.toString()))
          .toList();
      assertEquals(List.of(), shims, "shim left running for " + id);
    }
  }

  @Test
  void ctrRunsContainersThroughJctrdAndTheRuncShim() throws Exception {
    CommandResult hello = ctr("run", "--rm", IMAGE, "t1", "echo", "hello")
        .requireSuccess("ctr run echo");
    assertEquals("hello", hello.stdout().strip());
    CommandResult seven = ctr("run", "--rm", IMAGE, "t2", "sh", "-c", "echo out; exit 7");
    assertEquals(7, seven.exitCode(), "the container's exit status: " + seven);
    assertEquals("out", seven.stdout().strip());
    assertNothingLeft(shared, "default", "t1");
    assertNothingLeft(shared, "default", "t2");
    assertEquals("", ctr("containers", "ls", "-q").stdout().strip(), "--rm removed both");
  }

  @Test
  void aDetachedTaskExecsPausesAndReportsItsKill() throws Exception {
    String ns = "detached";
    ctr("-n", ns, "run", "-d", IMAGE, "d1", "sleep", "1000").requireSuccess("ctr run -d");
    assertTrue(ctr("-n", ns, "tasks", "ls").stdout().matches("(?s).*d1\\s+\\d+\\s+RUNNING.*"));
    // runc's state lives under the daemon's state directory, not containerd's
    assertTrue(Files.isDirectory(shared.resolve("state/runc").resolve(ns).resolve("d1")),
        "runc state under <state>/runc");
    CommandResult exec = ctr("-n", ns, "tasks", "exec", "--exec-id", "e1", "d1", "ps")
        .requireSuccess("ctr tasks exec");
    assertTrue(exec.stdout().contains("sleep 1000"), exec.stdout());
    CommandResult pids = ctr("-n", ns, "tasks", "ps", "d1").requireSuccess("ctr tasks ps");
    assertEquals(2, pids.stdout().lines().count(), "header and the one process: " + pids);

    ctr("-n", ns, "tasks", "pause", "d1").requireSuccess("pause");
    assertTrue(ctr("-n", ns, "tasks", "ls").stdout().contains("PAUSED"));
    ctr("-n", ns, "tasks", "resume", "d1").requireSuccess("resume");
    assertTrue(ctr("-n", ns, "tasks", "ls").stdout().contains("RUNNING"));

    CommandResult running = ctr("-n", ns, "tasks", "rm", "d1");
    assertTrue(running.exitCode() != 0 && running.stderr().contains("running"),
        "a running task is not deleted: " + running);
    ctr("-n", ns, "tasks", "kill", "-s", "9", "d1").requireSuccess("kill");
    TaskListings.await(() -> ctr("-n", ns, "tasks", "ls").stdout(), "d1", "STOPPED");
    CommandResult removed = ctr("-n", ns, "tasks", "rm", "d1").requireSuccess("tasks rm");
    assertTrue(removed.stderr().contains("137"), "exit status 137 reported: " + removed);
    ctr("-n", ns, "containers", "rm", "d1").requireSuccess("containers rm");
    assertNothingLeft(shared, ns, "d1");
    assertFalse(ctr("-n", "default", "tasks", "ls").stdout().contains("d1"),
        "other namespaces never see the task");
  }

  @Test
  void badTasksAreRefusedClearlyAndLeaveNothing() throws Exception {
    String ns = "bad";
    try (DaemonClient client = new DaemonClient(daemon.socket())) {
      var containers = ContainersGrpc.newBlockingStub(client.in(ns));
      var tasks = TasksGrpc.newBlockingStub(client.in(ns));
      String spec = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
          + "\"root\":{\"path\":\"rootfs\"},\"linux\":{}}";
      containers.create(container("nosnap", RUNC, spec));
      containers.create(container("badspec", RUNC, "{not json"));
      containers.create(container("noruntime", "io.containerd.nothere.v1", spec));

      StatusRuntimeException noSnapshot = assertThrows(StatusRuntimeException.class,
          () -> tasks.create(CreateTaskRequest.newBuilder().setContainerId("nosnap").build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, noSnapshot.getStatus().getCode());
      assertTrue(noSnapshot.getMessage().contains("no root filesystem"),
          noSnapshot.getMessage());

      StatusRuntimeException badSpec = assertThrows(StatusRuntimeException.class,
          () -> tasks.create(CreateTaskRequest.newBuilder().setContainerId("badspec").build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, badSpec.getStatus().getCode());
      assertTrue(badSpec.getMessage().contains("badspec"), badSpec.getMessage());

      StatusRuntimeException noBinary = assertThrows(StatusRuntimeException.class,
          () -> tasks.create(CreateTaskRequest.newBuilder().setContainerId("noruntime")
              .build()));
      assertEquals(Status.Code.NOT_FOUND, noBinary.getStatus().getCode(), noBinary.getMessage());
      assertTrue(noBinary.getMessage().contains("containerd-shim-nothere-v1"),
          noBinary.getMessage());

      StatusRuntimeException noContainer = assertThrows(StatusRuntimeException.class,
          () -> tasks.create(CreateTaskRequest.newBuilder().setContainerId("ghost").build()));
      assertEquals(Status.Code.NOT_FOUND, noContainer.getStatus().getCode());

      for (String id : List.of("nosnap", "badspec", "noruntime", "ghost")) {
        assertNothingLeft(shared, ns, id);
      }
    }

    // a process runc cannot start: runc's own message, and the shim and bundle are gone
    CommandResult missing = ctr("-n", ns, "run", "--rm", IMAGE, "nocmd", "/no/such/binary");
    assertTrue(missing.exitCode() != 0, missing.toString());
    assertTrue(missing.stderr().contains("/no/such/binary"), missing.stderr());
    ctr("-n", ns, "containers", "rm", "nocmd");
    assertNothingLeft(shared, ns, "nocmd");

    // an exec id in use is refused
    ctr("-n", ns, "run", "-d", IMAGE, "busy", "sleep", "1000").requireSuccess("run -d");
    List<String> exec = List.of("-n", ns, "tasks", "exec", "-d", "--exec-id", "same", "busy",
        "sleep", "1000");
    ctr(exec.toArray(String[]::new)).requireSuccess("first exec");
    CommandResult again = ctr(exec.toArray(String[]::new));
    assertTrue(again.exitCode() != 0 && again.stderr().contains("already exists"),
        again.toString());
    ctr("-n", ns, "tasks", "kill", "-a", "-s", "9", "busy").requireSuccess("kill");
    TaskListings.await(() -> ctr("-n", ns, "tasks", "ls").stdout(), "busy", "STOPPED");
    ctr("-n", ns, "tasks", "rm", "busy").requireSuccess("rm");
    ctr("-n", ns, "containers", "rm", "busy").requireSuccess("containers rm");
    assertNothingLeft(shared, ns, "busy");
    assertTrue(!Files.exists(bundles(ns)) || Files.list(bundles(ns)).findAny().isEmpty());
  }

  private static CreateContainerRequest container(String id, String runtime, String spec) {
    return CreateContainerRequest.newBuilder().setContainer(Container.newBuilder().setId(id)
        .setRuntime(Container.Runtime.newBuilder().setName(runtime))
        .setSpec(Any.newBuilder().setTypeUrl(
            "types.containerd.io/opencontainers/runtime-spec/1/Spec")
            .setValue(ByteString.copyFrom(spec, StandardCharsets.UTF_8)))).build();
  }
}
