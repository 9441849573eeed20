package dev.jctr.cri.io;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Streams on fifos whose other end opens later: opening a fifo blocks until both ends are
 * open, so each is opened by a thread of its own, started at once, and the stream waits for
 * it on first use.
 */
public final class FifoStreams {

  private FifoStreams() {}

  public static InputStream reader(Path fifo) {
    CompletableFuture<InputStream> opened = open(() -> new FileInputStream(fifo.toFile()));
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return get(opened).read(b, off, len);
      }

      @Override
      public void close() throws IOException {
        if (opened.isDone() && !opened.isCompletedExceptionally()) {
          opened.join().close();
        }
      }
    };
  }

  public static OutputStream writer(Path fifo) {
    CompletableFuture<OutputStream> opened = open(() -> new FileOutputStream(fifo.toFile()));
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        get(opened).write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        get(opened).write(b, off, len);
      }

      @Override
      public void flush() throws IOException {
        get(opened).flush();
      }

      @Override
      public void close() throws IOException {
        if (opened.isDone() && !opened.isCompletedExceptionally()) {
          opened.join().close();
        }
      }
    };
  }

  private interface Opener<T> {
    T open() throws IOException;
  }

  private static <T> CompletableFuture<T> open(Opener<T> opener) {
    CompletableFuture<T> future = new CompletableFuture<>();
    Thread.ofPlatform().daemon().name("fifo-open").start(() -> {
      try {
        future.complete(opener.open());
      } catch (IOException e) {
        future.completeExceptionally(e);
      }
    });
    return future;
  }

  private static <T> T get(CompletableFuture<T> future) throws IOException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted opening a fifo", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    }
  }
}
