package dev.jctr.shim;

import com.google.protobuf.Timestamp;
import dev.jctr.api.proto.containerd.types.task.Status;
import dev.jctr.runtime.linux.LinuxCalls;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * One process of a task: its init ({@code execId} "") or an exec. Its exit is recorded once,
 * by the thread that reaps it, and completes {@link #exit()}.
 */
final class ShimProcess {

  record Exit(int status, Timestamp at) {}

  final String containerId;
  final String execId;
  final Path bundle;
  final ProcessStdio stdio;
  final boolean terminal;
  /** For an exec: the OCI process JSON, run at Start. */
  final byte[] execSpec;
  private final CompletableFuture<Exit> exit = new CompletableFuture<>();
  private volatile int pid;
  /** The process's terminal, when it has one. */
  volatile Console console;
  private volatile Status status = Status.CREATED;

  ShimProcess(String containerId, String execId, Path bundle, ProcessStdio stdio,
      boolean terminal, byte[] execSpec) {
    this.containerId = containerId;
    this.execId = execId;
    this.bundle = bundle;
    this.stdio = stdio;
    this.terminal = terminal;
    this.execSpec = execSpec;
  }

  String id() {
    return execId.isEmpty() ? containerId : execId;
  }

  int pid() {
    return pid;
  }

  Status status() {
    return exit.isDone() ? Status.STOPPED : status;
  }

  void status(Status status) {
    this.status = status;
  }

  CompletableFuture<Exit> exit() {
    return exit;
  }

  /**
   * Starts reaping {@code pid} (now our child, as we are the subreaper) on a small platform
   * thread; {@code onExit} runs once with its status.
   */
  void watch(int pid, java.util.function.Consumer<ShimProcess> onExit) {
    this.pid = pid;
    Thread.ofPlatform().daemon().stackSize(128 * 1024).name("reap-" + pid).start(() -> {
      int code = LinuxCalls.waitFor(pid);
      if (code < 0) { // not our child after all: wait on a pidfd; its status is unknown
        int pidfd = LinuxCalls.pidfdOpen(pid);
        if (pidfd >= 0) {
          LinuxCalls.awaitPidfd(pidfd);
          LinuxCalls.close(pidfd);
        } else {
          ProcessHandle.of(pid).ifPresent(handle -> handle.onExit().join());
        }
        code = 255;
      }
      Instant now = Instant.now();
      stdio.close();
      exit.complete(new Exit(code, Timestamp.newBuilder().setSeconds(now.getEpochSecond())
          .setNanos(now.getNano()).build()));
      onExit.accept(this);
    });
  }
}
