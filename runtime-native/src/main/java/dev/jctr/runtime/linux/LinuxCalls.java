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

  private static final java.util.Map<String, Long> SET_FLAGS = java.util.Map.ofEntries(
      java.util.Map.entry("ro", 1L), java.util.Map.entry("nosuid", 2L),
      java.util.Map.entry("nodev", 4L), java.util.Map.entry("noexec", 8L),
      java.util.Map.entry("sync", 16L), java.util.Map.entry("remount", 32L),
      java.util.Map.entry("noatime", 1024L), java.util.Map.entry("nodiratime", 2048L),
      java.util.Map.entry("bind", 4096L), java.util.Map.entry("rbind", 4096L | 16384L),
      java.util.Map.entry("relatime", 1L << 21), java.util.Map.entry("strictatime", 1L << 24));
  private static final java.util.Set<String> CLEAR_FLAGS = java.util.Set.of("rw", "suid",
      "dev", "exec", "async", "atime", "diratime", "norelatime", "defaults");

  /**
   * mount(2) with options as mount(8) spells them: flag words ({@code ro}, {@code nosuid},
   * {@code rbind}...) become flags, the rest ({@code lowerdir=...}) the data string.
   *
   * @throws FailedPreconditionException with the errno when the kernel refuses
   */
  public static void mount(String source, String target, String type,
      java.util.List<String> options) {
    long flags = 0;
    java.util.List<String> data = new java.util.ArrayList<>();
    for (String option : options) {
      Long flag = SET_FLAGS.get(option);
      if (flag != null) {
        flags |= flag;
      } else if (!CLEAR_FLAGS.contains(option)) {
        data.add(option);
      }
    }
    if (load().mount(source, target, type, flags, String.join(",", data)) != 0) {
      throw new FailedPreconditionException("mount " + type + " " + source + " on " + target
          + ": errno " + errno());
    }
  }

  /** umount2(2); false when nothing is mounted there (EINVAL) or it is gone (ENOENT). */
  public static boolean unmount(String target, boolean detach) {
    if (load().umount2(target, detach ? 2 : 0) == 0) {
      return true;
    }
    int errno = errno();
    if (errno == 22 || errno == 2) {
      return false;
    }
    throw new FailedPreconditionException("umount " + target + ": errno " + errno);
  }

  private static int errno() {
    return Runtime.getSystemRuntime().getLastError();
  }
}
