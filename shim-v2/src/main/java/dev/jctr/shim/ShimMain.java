package dev.jctr.shim;

import dev.jctr.api.ttrpc.TtrpcServer;
import dev.jctr.runtime.linux.LinuxCalls;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The long-running half of {@code containerd-shim-jctr-v2}: the launcher script handles the
 * shim commands ({@code start}, {@code delete}) and starts this JVM, daemonized, only when no
 * shim of the task's group is running. It serves the task service on its socket, writes its
 * pid file once it does, and, holding no container, stays for {@code --idle-seconds} to take
 * the next task of its group without a JVM start.
 *
 * <p>Usage: {@code serve --socket S --namespace NS --events TTRPC --runc-root DIR
 * --pid-file P [--idle-seconds N] [--runc BINARY]}
 */
public final class ShimMain {

  private static final Logger LOG = System.getLogger(ShimMain.class.getName());

  private final Path socket;
  private final Path pidFile;
  private final long idleSeconds;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      Thread.ofPlatform().daemon().name("idle").factory());
  private ScheduledFuture<?> exit;
  private TaskService tasks;

  private ShimMain(Path socket, Path pidFile, long idleSeconds) {
    this.socket = socket;
    this.pidFile = pidFile;
    this.idleSeconds = idleSeconds;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> flags = flags(args);
    ShimMain shim = new ShimMain(Path.of(require(flags, "socket")),
        Path.of(require(flags, "pid-file")),
        Long.parseLong(flags.getOrDefault("idle-seconds", "300")));
    shim.serve(require(flags, "namespace"), Path.of(require(flags, "events")),
        Path.of(require(flags, "runc-root")), flags.getOrDefault("runc", "runc"));
  }

  private void serve(String namespace, Path events, Path runcRoot, String runc)
      throws IOException, InterruptedException {
    // libc takes a while to load: the socket is served meanwhile, containers wait for it
    CompletableFuture<Void> subreaper = CompletableFuture.runAsync(
        LinuxCalls::becomeSubreaper, Executors.newVirtualThreadPerTaskExecutor());
    tasks = new TaskService(namespace, runcRoot, runc,
        new EventForwarder(events, namespace), new TaskService.Idle() {
          @Override
          public void empty() {
            scheduleExit();
          }

          @Override
          public void busy() {
            subreaper.join();
            cancelExit();
          }
        });
    TtrpcServer server = new TtrpcServer();
    tasks.register(server);
    Files.createDirectories(socket.getParent());
    server.listen(socket);
    writePidFile();
    scheduleExit();
    LOG.log(Level.INFO, "jctr shim {0} serving {1} for namespace {2}",
        ProcessHandle.current().pid(), socket, namespace);
    Thread.currentThread().join(); // until exit
  }

  private synchronized void scheduleExit() {
    cancelExit();
    exit = timer.schedule(this::exitIfIdle, idleSeconds, TimeUnit.SECONDS);
  }

  private synchronized void cancelExit() {
    if (exit != null) {
      exit.cancel(false);
      exit = null;
    }
    if (!Files.exists(pidFile)) {
      writePidFile(); // a task arrived in the grace period: stay findable
    }
  }

  /**
   * Idle for long enough: the pid file goes first, so no new start picks this shim, then a
   * short grace for a start that already did; then the process ends.
   */
  private void exitIfIdle() {
    synchronized (this) {
      if (!tasks.isEmpty()) {
        return;
      }
      try {
        Files.deleteIfExists(pidFile);
      } catch (IOException e) {
        LOG.log(Level.WARNING, "removing " + pidFile + ": " + e.getMessage());
      }
    }
    try {
      Thread.sleep(2000);
    } catch (InterruptedException e) {
      return;
    }
    synchronized (this) {
      if (tasks.isEmpty() && !Files.exists(pidFile)) {
        LOG.log(Level.INFO, "idle for {0} s: exiting", idleSeconds);
        Runtime.getRuntime().halt(0);
      }
    }
  }

  private void writePidFile() {
    try {
      Path partial = pidFile.resolveSibling(pidFile.getFileName() + ".partial");
      Files.writeString(partial, Long.toString(ProcessHandle.current().pid()));
      Files.move(partial, pidFile, StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("pid file " + pidFile + ": " + e.getMessage(), e);
    }
  }

  private static Map<String, String> flags(String[] args) {
    Map<String, String> flags = new HashMap<>();
    List<String> list = List.of(args);
    int i = list.isEmpty() || !list.get(0).equals("serve") ? 0 : 1;
    for (; i + 1 < list.size(); i += 2) {
      if (!list.get(i).startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + list.get(i));
      }
      flags.put(list.get(i).substring(2), list.get(i + 1));
    }
    return flags;
  }

  private static String require(Map<String, String> flags, String name) {
    String value = flags.get(name);
    if (value == null || value.isEmpty()) {
      System.err.println("containerd-shim-jctr-v2 serve: --" + name + " is required");
      System.exit(2);
    }
    return value;
  }
}
