package dev.jctr.runtime.linux;

import jnr.ffi.annotations.Out;

/** The libc functions jctr calls directly (public: jnr-ffi implements it at run time). */
public interface LibC {

  int prctl(int option, long arg2, long arg3, long arg4, long arg5);

  int waitpid(int pid, @Out int[] status, int options);

  int kill(int pid, int signal);

  int getpid();

  int mount(String source, String target, String type, long flags, String data);

  int umount2(String target, int flags);

  long recvmsg(int fd, jnr.ffi.Pointer message, int flags);

  long read(int fd, @Out byte[] buffer, long count);

  long write(int fd, @jnr.ffi.annotations.In byte[] buffer, long count);

  int close(int fd);

  int ioctl(int fd, long request, @jnr.ffi.annotations.In short[] argument);

  int open(String path, int flags);

  int setns(int fd, int nstype);

  int statfs(String path, @Out byte[] buffer);

  long syscall(long number, long arg1, long arg2);

  int unshare(int flags);

  int mkfifo(String path, int mode);

  int poll(@jnr.ffi.annotations.In @Out byte[] fds, long count, int timeoutMillis);

  int posix_spawn_file_actions_init(jnr.ffi.Pointer actions);

  int posix_spawn_file_actions_addopen(jnr.ffi.Pointer actions, int fd, String path, int flags,
      int mode);

  int posix_spawn_file_actions_addclosefrom_np(jnr.ffi.Pointer actions, int from);

  int posix_spawn_file_actions_destroy(jnr.ffi.Pointer actions);

  int posix_spawnattr_init(jnr.ffi.Pointer attributes);

  int posix_spawnattr_setflags(jnr.ffi.Pointer attributes, short flags);

  int posix_spawnattr_setsigmask(jnr.ffi.Pointer attributes, jnr.ffi.Pointer mask);

  int posix_spawnattr_setsigdefault(jnr.ffi.Pointer attributes, jnr.ffi.Pointer signals);

  int posix_spawnattr_destroy(jnr.ffi.Pointer attributes);

  int sigemptyset(jnr.ffi.Pointer set);

  int sigfillset(jnr.ffi.Pointer set);

  int posix_spawn(@Out int[] pid, String path, jnr.ffi.Pointer actions,
      jnr.ffi.Pointer attributes, jnr.ffi.Pointer argv, jnr.ffi.Pointer envp);
}
