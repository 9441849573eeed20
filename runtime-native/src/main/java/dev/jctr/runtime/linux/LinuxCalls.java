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

  /**
   * Receives one file descriptor sent with SCM_RIGHTS on the connected unix socket {@code fd}
   * (runc sends a container's pty master this way over its console socket).
   */
  public static int receiveFd(int fd) {
    Runtime runtime = Runtime.getSystemRuntime();
    jnr.ffi.Pointer data = jnr.ffi.Memory.allocateDirect(runtime, 4096);
    jnr.ffi.Pointer iov = jnr.ffi.Memory.allocateDirect(runtime, 16);
    iov.putAddress(0, data.address());
    iov.putLong(8, 4096);
    jnr.ffi.Pointer control = jnr.ffi.Memory.allocateDirect(runtime, 64);
    jnr.ffi.Pointer message = jnr.ffi.Memory.allocateDirect(runtime, 56);
    message.putAddress(0, 0); // msg_name
    message.putInt(8, 0); // msg_namelen
    message.putAddress(16, iov.address()); // msg_iov
    message.putLong(24, 1); // msg_iovlen
    message.putAddress(32, control.address()); // msg_control
    message.putLong(40, 64); // msg_controllen
    message.putInt(48, 0); // msg_flags
    long received = load().recvmsg(fd, message, 0);
    // data and iov are reached only through addresses in native memory during the call
    java.lang.ref.Reference.reachabilityFence(data);
    java.lang.ref.Reference.reachabilityFence(iov);
    if (received < 0) {
      throw new FailedPreconditionException("recvmsg: errno " + errno());
    }
    // struct cmsghdr: len (8), level (4), type (4), then the descriptors
    long length = control.getLong(0);
    int level = control.getInt(8);
    int type = control.getInt(12);
    if (message.getLong(40) < 20 || length < 20 || level != 1 /* SOL_SOCKET */
        || type != 1 /* SCM_RIGHTS */) {
      throw new FailedPreconditionException("the console socket sent no file descriptor");
    }
    return control.getInt(16);
  }

  /** read(2) into {@code buffer}: the count, 0 at end, -1 on an error (EIO once a pty's
   *  other side is gone). */
  public static long read(int fd, byte[] buffer) {
    while (true) {
      long n = load().read(fd, buffer, buffer.length);
      if (n >= 0 || errno() != EINTR) {
        return n;
      }
    }
  }

  /** Writes all of {@code buffer[0..count)}; false if the descriptor refuses. */
  public static boolean writeAll(int fd, byte[] buffer, int count) {
    int done = 0;
    while (done < count) {
      byte[] rest = done == 0 ? buffer : java.util.Arrays.copyOfRange(buffer, done, count);
      long n = load().write(fd, rest, count - done);
      if (n < 0) {
        if (errno() == EINTR) {
          continue;
        }
        return false;
      }
      done += (int) n;
    }
    return true;
  }

  public static void close(int fd) {
    load().close(fd);
  }

  /** TIOCSWINSZ: the terminal's size, as a resized client window asks. */
  public static void resize(int fd, int width, int height) {
    short[] size = {(short) height, (short) width, 0, 0};
    if (load().ioctl(fd, 0x5414, size) != 0) {
      throw new FailedPreconditionException("TIOCSWINSZ: errno " + errno());
    }
  }

  /** What statfs(2) reports of a filesystem (sizes in bytes). */
  public record FsStats(long type, long blockSize, long totalBytes, long freeBytes,
      long availableBytes) {}

  /** statfs(2) of the filesystem holding {@code path}. */
  public static FsStats statfs(String path) {
    byte[] raw = new byte[120];
    if (load().statfs(path, raw) != 0) {
      throw new FailedPreconditionException("statfs " + path + ": errno " + errno());
    }
    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(raw)
        .order(java.nio.ByteOrder.nativeOrder());
    long type = buffer.getLong(0);
    long blockSize = buffer.getLong(8);
    return new FsStats(type, blockSize, buffer.getLong(16) * blockSize,
        buffer.getLong(24) * blockSize, buffer.getLong(32) * blockSize);
  }

  /**
   * Moves the calling thread into the namespace {@code nsPath} (e.g. /proc/PID/ns/net) of
   * type {@code nstype} (CLONE_NEWNET 0x40000000, CLONE_NEWUTS 0x04000000). Not for mount
   * namespaces: a multi-threaded JVM cannot enter one.
   */
  public static void setns(String nsPath, int nstype) {
    int fd = load().open(nsPath, 0x80000 /* O_RDONLY | O_CLOEXEC */);
    if (fd < 0) {
      throw new FailedPreconditionException("open " + nsPath + ": errno " + errno());
    }
    try {
      if (load().setns(fd, nstype) != 0) {
        throw new FailedPreconditionException("setns " + nsPath + ": errno " + errno());
      }
    } finally {
      load().close(fd);
    }
  }

  /**
   * A pidfd for {@code pid} (pidfd_open(2), Linux 5.3+), or -1 where there is none: a handle
   * that cannot be confused with a later process reusing the pid.
   */
  public static int pidfdOpen(int pid) {
    long fd = load().syscall(434 /* pidfd_open, x86_64 and arm64 */, pid, 0);
    return fd < 0 ? -1 : (int) fd;
  }

  /** Blocks until the process behind {@code pidfd} has exited (poll for POLLIN). */
  public static void awaitPidfd(int pidfd) {
    byte[] pollfd = new byte[8]; // int fd; short events; short revents
    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(pollfd)
        .order(java.nio.ByteOrder.nativeOrder());
    buffer.putInt(0, pidfd);
    buffer.putShort(4, (short) 1 /* POLLIN */);
    while (true) {
      int ready = load().poll(pollfd, 1, -1);
      if (ready > 0) {
        return;
      }
      if (ready < 0 && errno() != EINTR) {
        throw new FailedPreconditionException("poll(pidfd): errno " + errno());
      }
    }
  }

  /** mkfifo(3) with {@code mode}; EEXIST and other refusals name the path and errno. */
  public static void makeFifo(String path, int mode) {
    if (load().mkfifo(path, mode) != 0) {
      throw new FailedPreconditionException("mkfifo " + path + ": errno " + errno());
    }
  }

  private static final int CLONE_NEWNET = 0x40000000;
  private static final int MS_BIND = 4096;
  /** nsfs, the filesystem of /proc/PID/ns/* and of their bind mounts. */
  public static final long NSFS_MAGIC = 0x6e736673L;

  /**
   * A new network namespace bind-mounted on the existing file {@code pin}. unshare(2) moves
   * only the calling thread, so a platform thread of its own does it and then ends: no thread
   * of the JVM stays in the new namespace, whatever fails.
   */
  public static void pinNewNetworkNamespace(String pin) {
    load();
    RuntimeException[] failure = new RuntimeException[1];
    Thread thread = Thread.ofPlatform().daemon().name("netns-pin").stackSize(256 * 1024)
        .start(() -> {
          try {
            if (libc.unshare(CLONE_NEWNET) != 0) {
              throw new FailedPreconditionException("unshare(CLONE_NEWNET): errno " + errno());
            }
            if (libc.mount("/proc/thread-self/ns/net", pin, "none", MS_BIND, null) != 0) {
              throw new FailedPreconditionException("bind mount of a new network namespace on "
                  + pin + ": errno " + errno());
            }
          } catch (RuntimeException e) {
            failure[0] = e;
          }
        });
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FailedPreconditionException("interrupted pinning a network namespace on " + pin);
    }
    if (failure[0] != null) {
      throw failure[0];
    }
  }

  private static int errno() {
    return Runtime.getSystemRuntime().getLastError();
  }
}
