package dev.jctr.runtime.linux;

import dev.jctr.api.errors.FailedPreconditionException;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/**
 * Linux calls a shim needs and Java lacks, through jnr-ffi: becoming the subreaper of its
 * containers, waiting for a process that is not its direct child, signalling by pid. Loading
 * libc takes several hundred milliseconds the first time: call {@link #load} early, off the
 * critical path.
 */
public final class LinuxCalls {

  private static final int PR_SET_CHILD_SUBREAPER = 36;
  private static final int EINTR = 4;
  private static final int ECHILD = 10;

  private static volatile LibC libc;

  private LinuxCalls() {}

  public static LibC load() {
    LibC loaded = libc;
    if (loaded == null) {
      synchronized (LinuxCalls.class) {
        if (libc == null) {
          libc = LibraryLoader.create(LibC.class).load("c");
        }
        loaded = libc;
      }
    }
    return loaded;
  }

  /** Orphaned descendants (a container's init once runc has exited) become our children. */
  public static void becomeSubreaper() {
    if (load().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
      throw new FailedPreconditionException("prctl(PR_SET_CHILD_SUBREAPER): errno "
          + errno());
    }
  }

  /**
   * Blocks until child {@code pid} exits and reaps it. Returns its status as a shell reports
   * it: the exit code, or 128 + the signal that killed it; -1 if it is not our child.
   */
  public static int waitFor(int pid) {
    int[] status = new int[1];
    while (true) {
      int result = load().waitpid(pid, status, 0);
      if (result == pid) {
        int raw = status[0];
        int signal = raw & 0x7f;
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal;
      }
      int errno = errno();
      if (result < 0 && errno == EINTR) {
        continue;
      }
      if (result < 0 && errno == ECHILD) {
        return -1;
      }
      throw new FailedPreconditionException("waitpid(" + pid + "): errno " + errno);
    }
  }

  /** Sends {@code signal} to {@code pid}; false if there is no such process. */
  public static boolean kill(int pid, int signal) {
    return load().kill(pid, signal) == 0;
  }

  private static int errno() {
    return Runtime.getSystemRuntime().getLastError();
  }
}
