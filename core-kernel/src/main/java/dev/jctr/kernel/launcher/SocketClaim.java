package dev.jctr.kernel.launcher;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Makes sure this process is the only daemon on a socket path. A lock file beside the socket
 * ({@code <socket>.lock}, held for the process's life) settles races between two starting
 * daemons; a connection test tells a live server (refuse to start) from a stale socket file
 * left by a crash (remove it).
 */
final class SocketClaim implements AutoCloseable {

  private final FileChannel lockChannel;
  private final FileLock lock;

  private SocketClaim(FileChannel lockChannel, FileLock lock) {
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /** Claims {@code socket} or explains, in the exception, who holds it. */
  static SocketClaim claim(Path socket) throws IOException {
    Path parent = socket.toAbsolutePath().getParent();
    if (!Files.isDirectory(parent)) {
      Files.createDirectories(parent);
      Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwx--x--x"));
    }
    Path lockFile = Path.of(socket + ".lock");
    FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by this very process
    }
    if (lock == null) {
      channel.close();
      throw new AlreadyServingException("another jctrd is already serving " + socket
          + " (it holds " + lockFile + "); stop it first or start this one with --address");
    }
    try {
      removeStaleSocket(socket);
    } catch (IOException | RuntimeException e) {
      lock.release();
      channel.close();
      throw e;
    }
    return new SocketClaim(channel, lock);
  }

  private static void removeStaleSocket(Path socket) throws IOException {
    if (!Files.exists(socket)) {
      return;
    }
    if (isLive(socket)) {
      throw new AlreadyServingException("another server is listening on " + socket
          + "; stop it first or start jctrd with --address");
    }
    Files.delete(socket);
  }

  private static boolean isLive(Path socket) {
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.connect(UnixDomainSocketAddress.of(socket));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    lock.release();
    lockChannel.close();
  }

  /** Another daemon holds the socket; the message says which path and what to do. */
  static final class AlreadyServingException extends IOException {
    private static final long serialVersionUID = 1L;

    AlreadyServingException(String message) {
      super(message);
    }
  }
}
