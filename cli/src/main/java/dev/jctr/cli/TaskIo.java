package dev.jctr.cli;

import dev.jctr.api.proto.containerd.services.tasks.v1.ResizePtyRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.TasksGrpc;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The stdio of a task's process as {@code jctr run} and {@code tasks exec} attach it: fifos the
 * process (or, with a terminal, the shim's pty copier) writes into directly, copied to our
 * stdout and stderr; with a terminal, our stdin copied in and our own terminal in raw mode
 * until the end, so that keys reach the container's shell as typed.
 */
final class TaskIo implements AutoCloseable {

  private final Path dir;
  private final boolean terminal;
  private final Path stdin;
  private final Path stdout;
  private final Path stderr;
  private final List<Thread> relays = new ArrayList<>();
  private String savedTty;

  private TaskIo(Path dir, boolean terminal) throws IOException, InterruptedException {
    this.dir = dir;
    this.terminal = terminal;
    this.stdout = RunCommand.fifo(dir.resolve("stdout"));
    this.stdin = terminal ? RunCommand.fifo(dir.resolve("stdin")) : null;
    this.stderr = terminal ? null : RunCommand.fifo(dir.resolve("stderr"));
  }

  static TaskIo create(boolean terminal) throws IOException, InterruptedException {
    return new TaskIo(Files.createTempDirectory("jctr-io-"), terminal);
  }

  /**
   * Fifos that outlive this command, for a detached task that {@code tasks attach} reads
   * later: under {@code $JCTR_FIFO_DIR} (default /run/jctr/fifo), as ctr keeps its own under
   * /run/containerd/fifo. {@code tasks rm} removes them.
   */
  static TaskIo persistent(String namespace, String id, boolean terminal)
      throws IOException, InterruptedException {
    Path dir = fifoRoot().resolve(namespace).resolve(id + "-" + Long.toHexString(
        System.nanoTime()));
    Files.createDirectories(dir);
    return new TaskIo(dir, terminal);
  }

  static Path fifoRoot() {
    String configured = System.getenv("JCTR_FIFO_DIR");
    return Path.of(configured == null || configured.isEmpty() ? "/run/jctr/fifo" : configured);
  }

  /** Removes the fifos of a deleted task, if this command line made them. */
  static void removeFifos(String... paths) throws IOException {
    for (String path : paths) {
      if (path.isEmpty() || !Path.of(path).startsWith(fifoRoot())) {
        continue;
      }
      Files.deleteIfExists(Path.of(path));
      Path dir = Path.of(path).getParent();
      try (var left = Files.list(dir)) {
        if (left.findAny().isEmpty()) {
          Files.deleteIfExists(dir);
        }
      } catch (java.nio.file.NoSuchFileException e) {
        // already gone
      }
    }
  }

  /**
   * Attaches to a running process's existing fifos: output copied here, and with a terminal
   * our keys in; returns once the process has exited and its output is read.
   */
  static void attach(String stdin, String stdout, String stderr, boolean terminal, Jctr root,
      String id, String execId, java.util.function.Supplier<Integer> waitForExit)
      throws IOException, InterruptedException {
    List<Thread> relays = new ArrayList<>();
    if (!stdout.isEmpty()) {
      relays.add(RunCommand.relay(Path.of(stdout), System.out));
    }
    if (!stderr.isEmpty()) {
      relays.add(RunCommand.relay(Path.of(stderr), System.err));
    }
    String saved = null;
    if (terminal && !stdin.isEmpty()) {
      copyKeys(Path.of(stdin));
      saved = stty("-g");
      if (saved != null) {
        stty("raw", "-echo");
        resizeTo(root, id, execId, false);
        followWindow(root, id, execId);
      }
    }
    try {
      waitForExit.get();
      for (Thread relay : relays) {
        relay.join(5000);
      }
      System.out.flush();
    } finally {
      if (saved != null) {
        stty(saved);
      }
    }
  }

  private static void copyKeys(Path stdin) {
    Thread.ofPlatform().daemon().name("stdin").start(() -> {
      try (OutputStream in = new FileOutputStream(stdin.toFile())) {
        byte[] buffer = new byte[4096];
        int n;
        while ((n = System.in.read(buffer)) > 0) {
          in.write(buffer, 0, n);
          in.flush();
        }
      } catch (IOException e) {
        // the task is gone
      }
    });
  }

  String stdin() {
    return stdin == null ? "" : stdin.toString();
  }

  String stdout() {
    return stdout.toString();
  }

  String stderr() {
    return stderr == null ? "" : stderr.toString();
  }

  /** Starts copying (before the task is created: opening a fifo waits for the other side). */
  void start() throws IOException, InterruptedException {
    relays.add(RunCommand.relay(stdout, System.out));
    if (stderr != null) {
      relays.add(RunCommand.relay(stderr, System.err));
    }
    if (stdin != null) {
      copyKeys(stdin);
    }
    if (terminal) {
      savedTty = stty("-g");
      if (savedTty != null) {
        stty("raw", "-echo");
      }
    }
  }

  /**
   * Tells the task's terminal our window's size, if we have a terminal, now and whenever the
   * window changes (SIGWINCH; those calls go on a connection of their own).
   */
  void resize(Jctr root, String id, String execId) throws IOException, InterruptedException {
    if (terminal) {
      resizeTo(root, id, execId, false);
      followWindow(root, id, execId);
    }
  }

  private static void followWindow(Jctr root, String id, String execId) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), signal ->
          Thread.ofPlatform().daemon().start(() -> {
            try {
              resizeTo(root, id, execId, true);
            } catch (Exception e) {
              // the task may be gone; the next change tries again
            }
          }));
    } catch (IllegalArgumentException e) {
      // no SIGWINCH here: the size stays as it was at start
    }
  }

  private static void resizeTo(Jctr root, String id, String execId, boolean aside)
      throws IOException, InterruptedException {
    String size = stty("size");
    if (size == null || !size.matches("\\d+ \\d+")) {
      return;
    }
    String[] rowsCols = size.split(" ");
    ResizePtyRequest request = ResizePtyRequest.newBuilder().setContainerId(id)
        .setExecId(execId).setHeight(Integer.parseInt(rowsCols[0]))
        .setWidth(Integer.parseInt(rowsCols[1])).build();
    if (aside) {
      root.callAside(TasksGrpc.getResizePtyMethod(), request);
    } else {
      root.call(TasksGrpc.getResizePtyMethod(), request);
    }
  }

  /** The process has exited: its output is all read once the fifos reach end of file. */
  void finish() throws InterruptedException {
    for (Thread relay : relays) {
      relay.join(5000);
    }
    System.out.flush();
  }

  @Override
  public void close() throws IOException {
    if (savedTty != null) {
      try {
        stty(savedTty);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try (var files = Files.list(dir)) {
      for (Path file : files.toList()) {
        Files.deleteIfExists(file);
      }
    }
    Files.deleteIfExists(dir);
  }

  /** stty on our terminal (/dev/tty); null when there is none. */
  private static String stty(String... args) throws IOException, InterruptedException {
    if (!Files.isReadable(Path.of("/dev/tty"))) {
      return null;
    }
    List<String> command = new ArrayList<>(List.of("stty"));
    command.addAll(List.of(args));
    Process process;
    try {
      process = new ProcessBuilder(command)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/tty")))
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      return null; // no controlling terminal
    }
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
        .strip();
    return process.waitFor() == 0 ? out : null;
  }
}
