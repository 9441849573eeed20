package dev.jctr.api.host;

import java.nio.file.Path;
import java.util.List;

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
}
