package dev.jctr.shim;

import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.runtime.linux.LinuxCalls;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A process's terminal: runc sends the pty master over a console socket (SCM_RIGHTS); the
 * shim copies between it and the client's fifos and resizes it on ResizePty.
 */
final class Console {

  private final int master;
  private volatile boolean closed;

  private Console(int master) {
    this.master = master;
  }

  /** A console socket at {@code path}, waiting in the background for runc's one message. */
  static final class Socket implements AutoCloseable {
    private final Path path;
    private final ServerSocketChannel server;
    private final CompletableFuture<Console> received = new CompletableFuture<>();

    Socket(Path path) throws IOException {
      this.path = path;
      Files.deleteIfExists(path);
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(path));
      Thread.ofPlatform().daemon().name("console-" + path.getFileName()).start(() -> {
        try (SocketChannel runc = server.accept()) {
          received.complete(new Console(LinuxCalls.receiveFd(fd(runc))));
        } catch (Exception e) {
          received.completeExceptionally(e);
        }
      });
    }

    Path path() {
      return path;
    }

    /** The console runc sent (runc create has returned by now). */
    Console console() {
      try {
        return received.get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new FailedPreconditionException("no terminal from the runtime's console socket: "
            + e.getMessage());
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      Files.deleteIfExists(path);
    }
  }

  /** The descriptor number of a JDK socket channel (the JVM runs with sun.nio.ch opened). */
  private static int fd(SocketChannel channel) throws ReflectiveOperationException {
    var method = channel.getClass().getDeclaredMethod("getFDVal");
    method.setAccessible(true);
    return (int) method.invoke(channel);
  }

  /**
   * Copies the terminal's output into {@code stdout} and {@code stdin} into the terminal, each
   * on a small thread; output ends when the process's side of the pty closes.
   */
  void copy(String stdin, String stdout) {
    if (!stdout.isEmpty()) {
      Thread.ofPlatform().daemon().stackSize(128 * 1024).name("pty-out").start(() -> {
        try (OutputStream out = new FileOutputStream(ProcessStdio.path(stdout).toFile())) {
          byte[] buffer = new byte[8192];
          long n;
          while ((n = LinuxCalls.read(master, buffer)) > 0) {
            out.write(buffer, 0, (int) n);
            out.flush();
          }
        } catch (IOException e) {
          // the client went away
        } finally {
          close();
        }
      });
    }
    if (!stdin.isEmpty()) {
      Thread.ofPlatform().daemon().stackSize(128 * 1024).name("pty-in").start(() -> {
        try (InputStream in = new FileInputStream(ProcessStdio.path(stdin).toFile())) {
          byte[] buffer = new byte[8192];
          int n;
          while (!closed && (n = in.read(buffer)) > 0) {
            if (!LinuxCalls.writeAll(master, buffer, n)) {
              return;
            }
          }
        } catch (IOException e) {
          // the client went away
        }
      });
    }
  }

  void resize(int width, int height) {
    if (!closed) {
      LinuxCalls.resize(master, width, height);
    }
  }

  synchronized void close() {
    if (!closed) {
      closed = true;
      LinuxCalls.close(master);
    }
  }
}
