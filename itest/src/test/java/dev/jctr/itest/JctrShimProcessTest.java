package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jctr's own shim, {@code containerd-shim-jctr-v2} (runtime io.containerd.jctr.v2, jctr run's
 * default): {@code jctr run} prints the container's output and exits with its code; tasks of a
 * namespace share one shim, which reaps them and reports each exit; exec; Debian's ctr and
 * Debian's containerd drive the same shim. crun instead of runc, per container, through this
 * shim and through Debian's runc shim.
 */
class JctrShimProcessTest {

  private static final Duration READY = Duration.ofSeconds(20);
  private static final Duration COMMAND = Duration.ofSeconds(60);
  private static final String JCTR_RUNTIME = "io.containerd.jctr.v2";
  private static final String RUNC_RUNTIME = "io.containerd.runc.v2";
  private static final String IMAGE = "docker.io/library/busybox:latest";

  @TempDir static Path shared;
  private static DaemonProcess daemon;
  private static String ctr;
  private static Path image;

  @BeforeAll
  static void startDaemon() throws Exception {
    ctr = Commands.requireTool("ctr", "containerd");
    Commands.requireTool("runc", "runc");
    image = Distribution.busyboxImage(Files.createDirectories(shared.resolve("image")));
    daemon = DaemonProcess.start(shared).awaitReady(READY).awaitServing(READY, "images", "ls");
    for (String ns : List.of("default", "group", "crun")) {
      daemon.jctr("-n", ns, "images", "import", image.toString()).requireSuccess("import");
    }
  }

  @AfterAll
  static void stopDaemon() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
  }

  @Test
  void jctrRunPrintsTheOutputAndPassesTheExitCodeOn() throws Exception {
    CommandResult hello = daemon.jctr("run", "--rm", "busybox", "t1", "echo", "hello")
        .requireSuccess("jctr run echo");
    assertEquals("hello", hello.stdout().strip());
    CommandResult seven = daemon.jctr("run", "--rm", "busybox", "t2", "sh", "-c",
        "echo to-stderr >&2; exit 7");
    assertEquals(7, seven.exitCode(), seven.toString());
    assertEquals("to-stderr", seven.stderr().strip());
    CommandResult env = daemon.jctr("run", "--rm", "--env", "GREETING=hi there", "busybox",
        "t3", "sh", "-c", "echo $GREETING from $(hostname)");
    assertEquals("hi there from t3", env.requireSuccess("run --env").stdout().strip());
    // detached, then attached: the output it wrote meanwhile and its exit code
    daemon.jctr("run", "-d", "busybox", "t4", "sh", "-c", "echo early; sleep 1; echo late;"
        + " exit 4").requireSuccess("run -d");
    CommandResult attached = daemon.jctr("tasks", "attach", "t4");
    assertEquals(4, attached.exitCode(), attached.toString());
    assertEquals("early\nlate", attached.stdout().strip());
    assertTrue(daemon.jctr("tasks", "rm", "t4").requireSuccess("tasks rm").stdout()
        .contains("t4 exited 4"));
    daemon.jctr("containers", "rm", "t4").requireSuccess("containers rm");
    try (var fifos = Files.walk(shared.resolve("fifo"))) {
      assertTrue(fifos.noneMatch(p -> p.getFileName().toString().startsWith("t4-")),
          "tasks rm removed the fifos");
    }
    for (String id : List.of("t1", "t2", "t3", "t4")) {
      TasksProcessTest.assertNothingLeft(shared, "default", id);
    }
    assertEquals("", daemon.jctr("containers", "ls", "-q").stdout().strip());
    assertEquals(1, daemon.jctr("snapshots", "ls", "-q").stdout().lines().count(),
        "only the image's snapshot remains");
  }

  @Test
  void tasksOfANamespaceShareOneShimThatReapsAndExecs() throws Exception {
    String ns = "group";
    for (String id : List.of("a", "b")) {
      daemon.jctr("-n", ns, "run", "-d", "busybox", id, "sleep", "1000")
          .requireSuccess("run -d " + id);
    }
    String listing = daemon.jctr("-n", ns, "tasks", "ls").requireSuccess("tasks ls").stdout();
    long a = pid(listing, "a");
    long b = pid(listing, "b");
    long shimOfA = ProcessHandle.of(a).orElseThrow().parent().orElseThrow().pid();
    long shimOfB = ProcessHandle.of(b).orElseThrow().parent().orElseThrow().pid();
    assertEquals(shimOfA, shimOfB, "one shim for the namespace");
    String shimCommand = ProcessHandle.of(shimOfA).orElseThrow().info().commandLine()
        .orElse("");
    assertTrue(shimCommand.contains("dev.jctr.shim.ShimMain"), shimCommand);

    CommandResult ps = daemon.jctr("-n", ns, "tasks", "exec", "a", "ps")
        .requireSuccess("tasks exec");
    assertTrue(ps.stdout().contains("sleep 1000"), ps.stdout());
    assertEquals(3, daemon.jctr("-n", ns, "tasks", "exec", "a", "sh", "-c", "exit 3")
        .exitCode(), "the exec's exit code");
    List<String> detached = List.of("-n", ns, "tasks", "exec", "-d", "--exec-id", "same", "b",
        "sleep", "1000");
    daemon.jctr(detached.toArray(String[]::new)).requireSuccess("exec -d");
    CommandResult again = daemon.jctr(detached.toArray(String[]::new));
    assertTrue(again.exitCode() != 0 && again.stderr().contains("already exists"),
        again.toString());

    daemon.jctr("-n", ns, "tasks", "pause", "a").requireSuccess("pause");
    assertTrue(daemon.jctr("-n", ns, "tasks", "ls").stdout()
        .matches("(?s).*a\\s+\\d+\\s+PAUSED.*"));
    daemon.jctr("-n", ns, "tasks", "resume", "a").requireSuccess("resume");

    daemon.jctr("-n", ns, "tasks", "kill", "-s", "KILL", "a").requireSuccess("kill a");
    daemon.jctr("-n", ns, "tasks", "kill", "-a", "-s", "KILL", "b").requireSuccess("kill b");
    TaskListings.await(() -> daemon.jctr("-n", ns, "tasks", "ls").stdout(), "a", "STOPPED");
    TaskListings.await(() -> daemon.jctr("-n", ns, "tasks", "ls").stdout(), "b", "STOPPED");
    CommandResult removed = daemon.jctr("-n", ns, "tasks", "rm", "a", "b")
        .requireSuccess("tasks rm");
    assertTrue(removed.stdout().contains("a exited 137"), removed.stdout());
    assertTrue(removed.stdout().contains("b exited 137"), removed.stdout());
    daemon.jctr("-n", ns, "containers", "rm", "a", "b").requireSuccess("containers rm");
    TasksProcessTest.assertNothingLeft(shared, ns, "a");
    TasksProcessTest.assertNothingLeft(shared, ns, "b");
    // Debian's ctr drives the same shim through jctrd
    CommandResult viaCtr = ctr(daemon.socket(), "-n", ns, "run", "--rm", "--runtime",
        JCTR_RUNTIME, "docker.io/library/busybox:latest", "c1", "echo", "hi from ctr");
    assertEquals("hi from ctr", viaCtr.requireSuccess("ctr run").stdout().strip());
  }

  /** The sandbox image a pod's first container is: it waits, and ends cleanly on SIGTERM. */
  @Test
  void theLocallyBuiltPauseImageWaitsAndEndsOnSigterm(@TempDir Path dir) throws Exception {
    Path pause = Distribution.pauseImage(dir);
    daemon.jctr("-n", "pause", "images", "import", pause.toString()).requireSuccess("import");
    daemon.jctr("-n", "pause", "run", "-d", "registry.k8s.io/pause:3.10", "sandbox1")
        .requireSuccess("run pause");
    Thread.sleep(500);
    assertTrue(daemon.jctr("-n", "pause", "tasks", "ls").stdout()
        .matches("(?s).*sandbox1\\s+\\d+\\s+RUNNING.*"), "pause keeps running");
    daemon.jctr("-n", "pause", "tasks", "kill", "sandbox1").requireSuccess("SIGTERM");
    TaskListings.await(() -> daemon.jctr("-n", "pause", "tasks", "ls").stdout(), "sandbox1",
        "STOPPED");
    assertTrue(daemon.jctr("-n", "pause", "tasks", "rm", "sandbox1").requireSuccess("rm")
        .stdout().contains("sandbox1 exited 0"), "a clean exit on SIGTERM");
    daemon.jctr("-n", "pause", "containers", "rm", "sandbox1").requireSuccess("rm");
    TasksProcessTest.assertNothingLeft(shared, "pause", "sandbox1");
  }

  @Test
  void debiansContainerdRunsContainersThroughTheJctrShim(@TempDir Path dir) throws Exception {
    Commands.requireTool("containerd", "containerd");
    try (ContainerdProcess containerd = ContainerdProcess.start(dir, ctr,
        Distribution.home().resolve("bin"))) {
      ctr(containerd.socket(), "images", "import", image.toString())
          .requireSuccess("ctr images import into containerd");
      CommandResult hi = ctr(containerd.socket(), "run", "--rm", "--runtime", JCTR_RUNTIME,
          "docker.io/library/busybox:latest", "k1", "echo", "hi from containerd");
      assertEquals("hi from containerd", hi.requireSuccess("containerd + jctr shim").stdout()
          .strip());
      CommandResult seven = ctr(containerd.socket(), "run", "--rm", "--runtime", JCTR_RUNTIME,
          "docker.io/library/busybox:latest", "k2", "sh", "-c", "exit 7");
      assertEquals(7, seven.exitCode(), seven.toString());
      assertEquals("", ctr(containerd.socket(), "tasks", "ls", "-q").stdout().strip());
    }
  }

  /**
   * A terminal through jctr's shim, driven as a person would: ctr run -t, ctr tasks exec -t,
   * jctr tasks exec -t and jctr run -t in tmux windows of 100x30; the shell inside sees a tty
   * of that size (the client's ResizePty) and answers typed commands; jctr passes the exit
   * code on.
   */
  @Test
  void aTerminalWorksUnderTmux(@TempDir Path dir) throws Exception {
    String tmux = Commands.requireTool("tmux", "tmux");
    String socket = dir.resolve("tmux.sock").toString();
    String ns = "tty";
    daemon.jctr("-n", ns, "images", "import", image.toString()).requireSuccess("import");
    String ctrRun = ctr + " --address " + daemon.socket() + " -n " + ns + " run -t --rm"
        + " --runtime " + JCTR_RUNTIME + " docker.io/library/busybox:latest tty1 sh";
    Commands.run(COMMAND, List.of(tmux, "-S", socket, "new-session", "-d", "-x", "100", "-y",
        "30", ctrRun)).requireSuccess("tmux new-session");
    try {
      awaitScreen(tmux, socket, "0:0", "/ #"); // the prompt (capture-pane drops trailing blanks)
      keys(tmux, socket, "0:0", "tty; stty size; echo $((6*7))");
      String screen = awaitScreen(tmux, socket, "0:0", "42");
      assertTrue(screen.contains("/dev/pts/0"), screen);
      // ctr resizes only after Start has returned, so the shell's first prompt can come before
      // the size does: ask again until the size arrives (5 s at most)
      long sized = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (!screen.contains("30 100") && System.nanoTime() < sized) {
        Thread.sleep(200);
        keys(tmux, socket, "0:0", "clear; stty size; echo size-$((1+1))-asked");
        screen = awaitScreen(tmux, socket, "0:0", "size-2-asked");
      }
      assertTrue(screen.contains("30 100"), "the window's size reached the pty:\n" + screen);

      // an exec with its own terminal beside it
      String exec = ctr + " --address " + daemon.socket() + " -n " + ns + " tasks exec -t"
          + " --exec-id e1 tty1 sh";
      Commands.run(COMMAND, List.of(tmux, "-S", socket, "new-window", "-t", "0:1", exec))
          .requireSuccess("tmux new-window");
      awaitScreen(tmux, socket, "0:1", "/ #");
      keys(tmux, socket, "0:1", "echo exec-$((2+3))");
      assertTrue(awaitScreen(tmux, socket, "0:1", "exec-5").contains("exec-5"));
      keys(tmux, socket, "0:1", "exit");

      // jctr's own: tasks exec -t beside it, then run -t whose exit code jctr passes on
      String jctr = Distribution.jctr() + " --address " + daemon.socket() + " -n " + ns;
      Commands.run(COMMAND, List.of(tmux, "-S", socket, "new-window", "-t", "0:2",
          jctr + " tasks exec -t tty1 sh")).requireSuccess("tmux new-window");
      awaitScreen(tmux, socket, "0:2", "/ #");
      keys(tmux, socket, "0:2", "tty; echo jctr-exec-$((3+4)); exit");
      Commands.run(COMMAND, List.of(tmux, "-S", socket, "new-window", "-t", "0:3",
          jctr + " run -t --rm busybox tty2 sh; echo jctr-exit=$?; sleep 60"))
          .requireSuccess("tmux new-window");
      awaitScreen(tmux, socket, "0:3", "/ #");
      keys(tmux, socket, "0:3", "stty size; echo $((6*7))");
      String jctrScreen = awaitScreen(tmux, socket, "0:3", "42");
      assertTrue(jctrScreen.contains("30 100"), "jctr run -t sized the pty:\n" + jctrScreen);
      // the window shrinks: SIGWINCH reaches jctr, which resizes the pty
      Commands.run(COMMAND, List.of(tmux, "-S", socket, "resize-window", "-t", "0:3", "-x",
          "80", "-y", "20")).requireSuccess("tmux resize-window");
      Thread.sleep(500);
      keys(tmux, socket, "0:3", "clear; stty size");
      awaitScreen(tmux, socket, "0:3", "20 80");
      keys(tmux, socket, "0:3", "exit 5");
      awaitScreen(tmux, socket, "0:3", "jctr-exit=5");

      keys(tmux, socket, "0:0", "exit"); // the first window's shell: ctr run --rm ends
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (System.nanoTime() < deadline && daemon.jctr("-n", ns, "containers", "ls", "-q")
          .stdout().contains("tty1")) {
        Thread.sleep(100);
      }
      assertEquals("", daemon.jctr("-n", ns, "containers", "ls", "-q").stdout().strip(),
          "ctr run -t --rm ended when the shell exited");
    } finally {
      Commands.run(COMMAND, List.of(tmux, "-S", socket, "kill-server"));
      for (String id : List.of("tty1", "tty2")) {
        if (daemon.jctr("-n", ns, "tasks", "ls", "-q").stdout().contains(id)) {
          daemon.jctr("-n", ns, "tasks", "kill", "-a", "-s", "KILL", id);
          Thread.sleep(500);
          daemon.jctr("-n", ns, "tasks", "rm", id);
          daemon.jctr("-n", ns, "containers", "rm", id);
          daemon.jctr("-n", ns, "snapshots", "rm", id);
        }
      }
    }
    TasksProcessTest.assertNothingLeft(shared, ns, "tty1");
    TasksProcessTest.assertNothingLeft(shared, ns, "tty2");
  }

  private static void keys(String tmux, String socket, String window, String line) {
    Commands.run(COMMAND, List.of(tmux, "-S", socket, "send-keys", "-t", window, line,
        "Enter")).requireSuccess("tmux send-keys");
  }

  /** The active pane once it shows {@code text} (10 s at most). */
  private static String awaitScreen(String tmux, String socket, String window, String text)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String screen = "";
    while (System.nanoTime() < deadline) {
      screen = Commands.run(COMMAND, List.of(tmux, "-S", socket, "capture-pane", "-p", "-t",
          window)).stdout();
      if (screen.contains(text)) {
        return screen;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the terminal never showed \"" + text + "\":\n" + screen);
  }

  @Test
  void theShimsDeleteCommandReportsAKilledTaskAsContainerdExpects(@TempDir Path dir)
      throws Exception {
    Path bundle = Files.createDirectories(dir.resolve("bundle"));
    ProcessBuilder delete = new ProcessBuilder(Distribution.home()
        .resolve("bin/containerd-shim-jctr-v2").toString(), "-namespace", "ns", "-id", "gone",
        "-address", dir.resolve("none.sock").toString(), "-bundle", bundle.toString(), "delete")
        .redirectErrorStream(false);
    delete.environment().put("JCTR_SHIM_RUN", dir.resolve("s").toString());
    Process process = delete.start();
    byte[] out = process.getInputStream().readAllBytes();
    assertEquals(0, process.waitFor());
    var response = dev.jctr.api.proto.containerd.task.v2.DeleteResponse.parseFrom(out);
    assertEquals(137, response.getExitStatus());
    long now = java.time.Instant.now().getEpochSecond();
    assertTrue(Math.abs(response.getExitedAt().getSeconds() - now) < 60, response.toString());
  }

  /**
   * {@code jctr run --runc-binary crun}: the container's runc options name crun, and jctr's
   * shim runs it. (Debian's ctr refuses --runc-binary with any runtime but
   * io.containerd.runc.v2, so ctr's case is the runc shim's, below.)
   */
  @Test
  void crunRunsContainersThroughTheJctrShim() throws Exception {
    String crun = Crun.require();
    String ns = "crun";
    CommandResult seven = daemon.jctr("-n", ns, "run", "--rm", "--runc-binary", "crun",
        "busybox", "j1", "sh", "-c", "echo hi; exit 7");
    assertEquals(7, seven.exitCode(), seven.toString());
    assertEquals("hi", seven.stdout().strip());
    TasksProcessTest.assertNothingLeft(shared, ns, "j1");

    daemon.jctr("-n", ns, "run", "-d", "--runc-binary", "crun", "busybox", "j2", "sleep",
        "1000").requireSuccess("jctr run -d --runc-binary crun");
    try {
      long pid = pid(daemon.jctr("-n", ns, "tasks", "ls").stdout(), "j2");
      Crun.assertRunning(crun, Crun.jctrShimRoot(shared, ns), "j2", pid);
      // Debian's ctr execs in it: crun exec, through the same shim
      CommandResult exec = ctr(daemon.socket(), "-n", ns, "tasks", "exec", "--exec-id", "e1",
          "j2", "sh", "-c", "echo exec-$((6*7))");
      assertEquals("exec-42", exec.requireSuccess("ctr tasks exec").stdout().strip());
    } finally {
      removeTask(ns, "j2");
    }
    TasksProcessTest.assertNothingLeft(shared, ns, "j2");
  }

  /** Debian's ctr with --runc-binary crun: the runc shim jctrd starts runs crun. */
  @Test
  void crunRunsContainersThroughTheRuncShim() throws Exception {
    String crun = Crun.require();
    Commands.requireTool("containerd-shim-runc-v2", "containerd");
    String ns = "crun";
    CommandResult hi = ctr(daemon.socket(), "-n", ns, "run", "--rm", "--runtime",
        RUNC_RUNTIME, "--runc-binary", "crun", IMAGE, "r1", "echo", "hi");
    assertEquals("hi", hi.requireSuccess("ctr run --runc-binary crun").stdout().strip());
    TasksProcessTest.assertNothingLeft(shared, ns, "r1");

    ctr(daemon.socket(), "-n", ns, "run", "-d", "--runtime", RUNC_RUNTIME, "--runc-binary",
        "crun", IMAGE, "r2", "sleep", "1000").requireSuccess("ctr run -d --runc-binary crun");
    try {
      long pid = pid(ctr(daemon.socket(), "-n", ns, "tasks", "ls").stdout(), "r2");
      // jctrd gives the runc shim the root <state>/runc, under which it adds the namespace
      Crun.assertRunning(crun, shared.resolve("state/runc").resolve(ns), "r2", pid);
    } finally {
      removeTask(ns, "r2");
    }
    TasksProcessTest.assertNothingLeft(shared, ns, "r2");
  }

  /** Kills a detached task (whatever its runtime) and removes it and its container. */
  private static void removeTask(String ns, String id) throws Exception {
    daemon.jctr("-n", ns, "tasks", "kill", "-a", "-s", "KILL", id);
    TaskListings.await(() -> daemon.jctr("-n", ns, "tasks", "ls").stdout(), id, "STOPPED");
    daemon.jctr("-n", ns, "tasks", "rm", id).requireSuccess("tasks rm " + id);
    ctr(daemon.socket(), "-n", ns, "containers", "rm", id).requireSuccess("containers rm " + id);
  }

  private static CommandResult ctr(Path socket, String... args) {
    List<String> command = new ArrayList<>(List.of(ctr, "--address", socket.toString()));
    command.addAll(List.of(args));
    return Commands.run(COMMAND, command);
  }

  private static long pid(String listing, String id) {
    Matcher m = Pattern.compile("(?m)^" + id + "\\s+(\\d+)\\s").matcher(listing);
    assertTrue(m.find(), id + " not listed:\n" + listing);
    return Long.parseLong(m.group(1));
  }
}
