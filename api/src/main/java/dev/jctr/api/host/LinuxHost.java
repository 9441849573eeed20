package dev.jctr.api.host;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The system calls the daemon's plugins need on a pod's or task's path, as calls rather than
 * mount(8), umount(8), mkfifo(1) and unshare(1) processes (each of those costs a process start
 * and a few milliseconds of CPU). Failures are {@link dev.jctr.api.errors.FailedPreconditionException}
 * naming the call, the path and the errno.
 */
public interface LinuxHost {

  /** mount(2), with options as mount(8) spells them (flag words, the rest as data). */
  void mount(String source, Path target, String type, List<String> options);

  /** umount2(2) of the top mount at {@code target}; false when nothing is mounted there. */
  boolean unmount(Path target);

  /** A named pipe (mode 0600) at {@code path}, replacing a file that is there. */
  void makeFifo(Path path);

  /**
   * A new, empty network namespace pinned by a bind mount on {@code pin}, a file that is
   * created here and must not exist yet.
   */
  void pinNewNetworkNamespace(Path pin);

  /** Whether a namespace (nsfs) is mounted at {@code path}. */
  boolean isNamespacePinned(Path path);

  /**
   * Runs a program (posix_spawn(3): no helper process in between) with this process's
   * environment plus {@code env}, its stdin read from a file and its stdout and stderr written
   * to files (null: /dev/null), and none of the daemon's other descriptors; waits for it and
   * returns its exit status as a shell reports it. One that runs longer than {@code timeout}
   * is killed (FailedPrecondition).
   */
  int run(List<String> argv, Map<String, String> env, Path stdin, Path stdout, Path stderr,
      Duration timeout);
}
