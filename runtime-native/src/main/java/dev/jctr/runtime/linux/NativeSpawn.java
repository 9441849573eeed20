package dev.jctr.runtime.linux;

import dev.jctr.api.errors.FailedPreconditionException;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * Runs a program by posix_spawn(3) from this process, where the JDK's ProcessBuilder starts a
 * helper program (jspawnhelper) that then executes it: one exec instead of two, without the
 * helper's dynamic loading and descriptor walk (about 2 ms of CPU a call here; a shim runs
 * runc twice per container). The child gets {@code /dev/null} or the given files as its
 * standard streams, nothing else of ours (every other descriptor is closed), default signal
 * handling and an empty signal mask.
 */
public final class NativeSpawn {

  private static final int O_RDONLY = 0;
  private static final int O_WRONLY = 1;
  private static final int O_CREAT = 0100;
  private static final int O_APPEND = 02000;
  private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
  private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
  /** Larger than glibc's posix_spawn_file_actions_t (80), posix_spawnattr_t (336), sigset_t. */
  private static final int OPAQUE = 512;

  /** Spawns and waits happen on platform threads: native calls pin a virtual thread's carrier. */
  private static final ExecutorService WAITERS = Executors.newCachedThreadPool(
      Thread.ofPlatform().daemon().stackSize(256 * 1024).name("spawn-wait-", 0).factory());

  private NativeSpawn() {}

  /** Standard streams: a file to read from and files to write to (null: /dev/null). */
  public record Stdio(Path stdin, Path stdout, Path stderr, boolean appendStderr) {}

  /**
   * Runs {@code argv} (argv[0] an absolute path or a name looked up in {@code PATH}) with this
   * process's environment, waits up to {@code timeoutSeconds}, and returns its exit status as
   * a shell reports it; kills it with SIGKILL when the time is up and throws.
   */
  public static int run(List<String> argv, Stdio stdio, long timeoutSeconds) {
    return run(argv, Map.of(), stdio, timeoutSeconds);
  }

  /** Whether libc has posix_spawn with closefrom (glibc 2.34+); else the JDK's way. */
  private static volatile boolean available = true;

  /** {@link #run(List, Stdio, long)} with {@code env} added to this process's environment. */
  public static int run(List<String> argv, Map<String, String> env, Stdio stdio,
      long timeoutSeconds) {
    if (!available) {
      return runByProcessBuilder(argv, env, stdio, timeoutSeconds);
    }
    // posix_spawn holds its thread until the child has exec'd (vfork), waitpid until it ends:
    // both on a platform thread, so that a virtual caller parks instead of pinning a carrier
    AtomicInteger started = new AtomicInteger();
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
      int pid = spawn(argv, env, stdio);
      started.set(pid);
      return LinuxCalls.waitFor(pid);
    }, WAITERS);
    try {
      return exit.get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      killWhenStarted(started, exit);
      throw new FailedPreconditionException(argv.get(0) + " did not finish within "
          + timeoutSeconds + " s");
    } catch (InterruptedException e) {
      killWhenStarted(started, exit);
      Thread.currentThread().interrupt();
      throw new FailedPreconditionException(argv.get(0) + ": interrupted");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof LinkageError) {
        available = false; // spawn never started a child
        return runByProcessBuilder(argv, env, stdio, timeoutSeconds);
      }
      if (e.getCause() instanceof FailedPreconditionException failed) {
        throw failed; // names the program already
      }
      throw new FailedPreconditionException(argv.get(0) + ": " + e.getCause().getMessage());
    }
  }

  /** SIGKILLs the child once spawned (it may still be being spawned) and waits for its end. */
  private static void killWhenStarted(AtomicInteger started, CompletableFuture<Integer> exit) {
    while (!exit.isDone()) {
      int pid = started.get();
      if (pid > 0) {
        LinuxCalls.kill(pid, 9);
        break;
      }
      LockSupport.parkNanos(1_000_000); // spawning takes a millisecond or so
    }
    try {
      exit.join();
    } catch (RuntimeException e) {
      // it ended, one way or the other
    }
  }

  /** The same through the JDK (a helper process in between), where libc lacks closefrom. */
  private static int runByProcessBuilder(List<String> argv, Map<String, String> env,
      Stdio stdio, long timeoutSeconds) {
    ProcessBuilder builder = new ProcessBuilder(argv)
        .redirectInput(redirect(stdio.stdin(), false))
        .redirectOutput(redirect(stdio.stdout(), false))
        .redirectError(redirect(stdio.stderr(), stdio.appendStderr()));
    builder.environment().putAll(env);
    Process process;
    try {
      process = builder.start();
    } catch (java.io.IOException e) {
      throw new FailedPreconditionException("cannot run " + argv.get(0) + ": "
          + e.getMessage());
    }
    try {
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new FailedPreconditionException(argv.get(0) + " did not finish within "
            + timeoutSeconds + " s");
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new FailedPreconditionException(argv.get(0) + ": interrupted");
    }
    return process.exitValue();
  }

  private static ProcessBuilder.Redirect redirect(Path file, boolean append) {
    java.io.File target = new java.io.File(file == null ? "/dev/null" : file.toString());
    return append ? ProcessBuilder.Redirect.appendTo(target) : ProcessBuilder.Redirect.to(target);
  }

  /** Starts {@code argv}; returns its pid. The caller reaps it ({@link LinuxCalls#waitFor}). */
  private static int spawn(List<String> argv, Map<String, String> env, Stdio stdio) {
    LibC libc = LinuxCalls.load();
    Runtime runtime = Runtime.getRuntime(libc);
    Pointer actions = Memory.allocateDirect(runtime, OPAQUE, true);
    Pointer attributes = Memory.allocateDirect(runtime, OPAQUE, true);
    Pointer signals = Memory.allocateDirect(runtime, OPAQUE, true);
    check(libc.posix_spawn_file_actions_init(actions), "file actions");
    try {
      check(libc.posix_spawnattr_init(attributes), "attributes");
      try {
        open(libc, actions, 0, stdio.stdin(), O_RDONLY);
        open(libc, actions, 1, stdio.stdout(), O_WRONLY | O_CREAT);
        open(libc, actions, 2, stdio.stderr(),
            O_WRONLY | O_CREAT | (stdio.appendStderr() ? O_APPEND : 0));
        check(libc.posix_spawn_file_actions_addclosefrom_np(actions, 3), "closefrom");
        libc.sigfillset(signals);
        check(libc.posix_spawnattr_setsigdefault(attributes, signals), "signal defaults");
        libc.sigemptyset(signals);
        check(libc.posix_spawnattr_setsigmask(attributes, signals), "signal mask");
        check(libc.posix_spawnattr_setflags(attributes,
            (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)), "flags");
        List<Pointer> keep = new ArrayList<>();
        Pointer args = strings(runtime, argv, keep);
        Map<String, String> variables = new java.util.TreeMap<>(System.getenv());
        variables.putAll(env);
        List<String> environment = new ArrayList<>();
        variables.forEach((name, value) -> environment.add(name + "=" + value));
        Pointer envp = strings(runtime, environment, keep);
        int[] pid = new int[1];
        int error;
        try {
          error = libc.posix_spawn(pid, executable(argv.get(0)), actions, attributes, args,
              envp);
        } finally {
          // the strings are reached only through addresses in native memory: without this
          // fence a collection during the call may free them before the child's execve
          // reads them (EFAULT, seen under load)
          Reference.reachabilityFence(keep);
          Reference.reachabilityFence(signals);
        }
        if (error != 0) {
          throw new FailedPreconditionException("cannot run " + argv.get(0) + ": errno "
              + error);
        }
        return pid[0];
      } finally {
        libc.posix_spawnattr_destroy(attributes);
      }
    } finally {
      libc.posix_spawn_file_actions_destroy(actions);
    }
  }

  private static void open(LibC libc, Pointer actions, int fd, Path file, int flags) {
    String path = file == null ? "/dev/null" : file.toString();
    check(libc.posix_spawn_file_actions_addopen(actions, fd, path, flags, 0644), path);
  }

  /** A NULL-terminated array of C strings. */
  private static Pointer strings(Runtime runtime, List<String> values, List<Pointer> keep) {
    int size = runtime.addressSize();
    Pointer array = Memory.allocateDirect(runtime, (values.size() + 1) * size, true);
    for (int i = 0; i < values.size(); i++) {
      byte[] bytes = values.get(i).getBytes(StandardCharsets.UTF_8);
      Pointer string = Memory.allocateDirect(runtime, bytes.length + 1, true);
      string.put(0, bytes, 0, bytes.length);
      keep.add(string);
      array.putAddress((long) i * size, string.address());
    }
    keep.add(array);
    return array;
  }

  /** posix_spawn takes a path: a bare name is looked up in PATH as a shell would. */
  private static String executable(String name) {
    if (name.contains("/")) {
      return name;
    }
    String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (String dir : path.split(":")) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
      if (java.nio.file.Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new FailedPreconditionException(name + " is not installed (not found in PATH "
        + path + ")");
  }

  private static void check(int error, String what) {
    if (error != 0) {
      throw new FailedPreconditionException("posix_spawn " + what + ": errno " + error);
    }
  }
}
