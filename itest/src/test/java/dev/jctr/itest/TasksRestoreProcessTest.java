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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Containers outlive the daemon: jctrd is killed with SIGKILL while ten run; they keep running,
 * a restarted jctrd lists them RUNNING, can kill them, and reports the one that exited while
 * it was down as STOPPED with its exit status.
 */
class TasksRestoreProcessTest {

  private static final Duration READY = Duration.ofSeconds(20);
  private static final String IMAGE = "docker.io/library/busybox:latest";

  @Test
  void tasksSurviveAKilledDaemonAndAreFoundAgain(@TempDir Path dir) throws Exception {
    String ctr = Commands.requireTool("ctr", "containerd");
    Commands.requireTool("containerd-shim-runc-v2", "containerd");
    Path image = Distribution.busyboxImage(Files.createDirectories(dir.resolve("image")));
    DaemonProcess first = DaemonProcess.start(dir).awaitReady(READY)
        .awaitServing(READY, "images", "ls");
    List<String> ids = new ArrayList<>();
    DaemonProcess second = null;
    try {
      first.jctr("images", "import", image.toString()).requireSuccess("import");
      for (int i = 0; i < 10; i++) {
        String id = "keep" + i;
        // even ones on Debian's runc shim, odd ones on jctr's
        String runtime = i % 2 == 0 ? "io.containerd.runc.v2" : "io.containerd.jctr.v2";
        ctr(ctr, first, "run", "-d", "--runtime", runtime, IMAGE, id, "sleep", "1000")
            .requireSuccess("run " + id);
        ids.add(id);
      }
      String before = ctr(ctr, first, "tasks", "ls").requireSuccess("tasks ls").stdout();
      long pid0 = pid(before, "keep0");

      first.kill();
      assertTrue(ProcessHandle.of(pid0).isPresent(), "keep0 runs on without the daemon");
      // keep0 and keep1 (one on each shim) end while nobody listens
      long pid1 = pid(before, "keep1");
      ProcessHandle.of(pid0).orElseThrow().destroyForcibly();
      ProcessHandle.of(pid1).orElseThrow().destroyForcibly();

      second = DaemonProcess.start(dir).awaitReady(READY).awaitServing(READY, "images", "ls");
      DaemonProcess restarted = second;
      String after = ctr(ctr, second, "tasks", "ls").requireSuccess("tasks ls").stdout();
      for (String id : ids.subList(2, ids.size())) {
        assertTrue(after.matches("(?s).*" + id + "\\s+\\d+\\s+RUNNING.*"), id + ":\n" + after);
        assertEquals(pid(before, id), pid(after, id), "same process for " + id);
      }
      for (String id : List.of("keep0", "keep1")) {
        TaskListings.await(() -> ctr(ctr, restarted, "tasks", "ls").stdout(), id,
            "STOPPED");
        CommandResult removed = ctr(ctr, second, "tasks", "rm", id).requireSuccess("rm");
        assertTrue(removed.stderr().contains("137"), id + "'s exit (SIGKILL): " + removed);
      }
      for (String id : List.of("keep2", "keep3")) { // one of each shim
        ctr(ctr, second, "tasks", "kill", "-s", "9", id).requireSuccess("kill after restore");
        TaskListings.await(() -> ctr(ctr, restarted, "tasks", "ls").stdout(), id,
            "STOPPED");
      }
    } finally {
      DaemonProcess daemon = second != null ? second : first;
      for (String id : ids) {
        ctr(ctr, daemon, "tasks", "kill", "-s", "9", id);
      }
      for (String id : ids) {
        awaitGone(ctr, daemon, id);
      }
      daemon.close();
      if (second != null) {
        first.close();
      }
    }
    for (String id : ids) {
      TasksProcessTest.assertNothingLeft(dir, "default", id);
    }
  }

  private static CommandResult ctr(String ctr, DaemonProcess daemon, String... args) {
    List<String> command = new ArrayList<>(List.of(ctr, "--address",
        daemon.socket().toString()));
    command.addAll(List.of(args));
    return Commands.run(Duration.ofSeconds(60), command);
  }

  private static long pid(String listing, String id) {
    Matcher m = Pattern.compile("(?m)^" + id + "\\s+(\\d+)\\s").matcher(listing);
    assertTrue(m.find(), id + " not listed:\n" + listing);
    return Long.parseLong(m.group(1));
  }

  /** Deletes the task once it has stopped, then its container. */
  private static void awaitGone(String ctr, DaemonProcess daemon, String id)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline
        && ctr(ctr, daemon, "tasks", "rm", id).stderr().contains("running")) {
      Thread.sleep(50);
    }
    ctr(ctr, daemon, "containers", "rm", id);
  }
}
