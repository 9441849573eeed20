package dev.jctr.cri.io;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Copies a container's stdout and stderr fifos into the CRI log file the kubelet reads: one
 * line per output line, {@code <RFC3339Nano> <stdout|stderr> <F|P> <content>}, where a line
 * longer than the maximum is split into {@code P} chunks ending with an {@code F} chunk, a
 * trailing {@code \r} is dropped, and text without a final newline at the end is a {@code P}.
 * Readers are platform threads: a fifo read blocks its thread.
 */
public final class ContainerLogger implements AutoCloseable {

  private static final Logger LOG = System.getLogger(ContainerLogger.class.getName());

  private final Path logFile;
  private final int maxLine;
  private final List<Thread> readers = new ArrayList<>();
  /** Attached clients' copies, by stream ("stdout", "stderr"). */
  private final Map<String, List<OutputTap>> taps = Map.of("stdout",
      new CopyOnWriteArrayList<>(), "stderr", new CopyOnWriteArrayList<>());
  private OutputStream out;
  private boolean closed;

  private ContainerLogger(Path logFile, int maxLine) throws IOException {
    this.logFile = logFile;
    this.maxLine = maxLine <= 0 ? Integer.MAX_VALUE : maxLine;
    this.out = open(logFile);
  }

  /**
   * Starts copying; {@code stderr} is null for a terminal (stdout carries everything). The
   * fifos are opened by the reader threads, since opening one blocks until the other end is.
   */
  public static ContainerLogger start(String id, Path stdout, Path stderr, Path logFile,
      int maxLine) throws IOException {
    ContainerLogger logger = new ContainerLogger(logFile, maxLine);
    logger.copy(id, stdout, "stdout");
    if (stderr != null) {
      logger.copy(id, stderr, "stderr");
    }
    return logger;
  }

  private static OutputStream open(Path file) throws IOException {
    if (file == null) {
      return OutputStream.nullOutputStream();
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    return new FileOutputStream(file.toFile(), true);
  }

  private void copy(String id, Path fifo, String stream) {
    readers.add(Thread.ofPlatform().daemon().name("cri-log-" + stream + "-"
        + id.substring(0, Math.min(12, id.length()))).start(() -> {
          try (InputStream in = new FileInputStream(fifo.toFile())) {
            pump(in, stream);
          } catch (IOException e) {
            LOG.log(Level.DEBUG, "log copy of " + stream + " of " + id + " ended: "
                + e.getMessage());
          } finally {
            taps.get(stream).forEach(OutputTap::end); // attached clients see the end too
          }
        }));
  }

  private void pump(InputStream in, String stream) throws IOException {
    byte[] buffer = new byte[32 * 1024];
    java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
    List<OutputTap> attached = taps.get(stream);
    int n;
    while ((n = in.read(buffer)) > 0) {
      for (OutputTap tap : attached) {
        tap.offer(buffer, n);
      }
      for (int i = 0; i < n; i++) {
        byte b = buffer[i];
        if (b == '\n') {
          write(stream, "F", line.toByteArray(), true);
          line.reset();
        } else {
          line.write(b);
          if (line.size() >= maxLine) {
            write(stream, "P", line.toByteArray(), false);
            line.reset();
          }
        }
      }
    }
    if (line.size() > 0) {
      write(stream, "P", line.toByteArray(), false);
    }
  }

  /**
   * Attach: a copy of {@code stream} ("stdout" or "stderr") from now on, raw as the container
   * writes it, until the container's end or {@link #untap}.
   */
  public OutputTap tap(String stream) {
    OutputTap tap = new OutputTap();
    List<OutputTap> list = taps.get(stream);
    if (list == null) {
      throw new IllegalArgumentException("no stream " + stream);
    }
    list.add(tap);
    return tap;
  }

  public void untap(OutputTap tap) {
    taps.values().forEach(list -> list.remove(tap));
    tap.end();
  }

  private synchronized void write(String stream, String tag, byte[] content, boolean full)
      throws IOException {
    if (closed) {
      return;
    }
    int length = content.length;
    if (full && length > 0 && content[length - 1] == '\r') {
      length--;
    }
    byte[] head = (Instant.now() + " " + stream + " " + tag + " ")
        .getBytes(StandardCharsets.UTF_8);
    byte[] record = new byte[head.length + length + 1];
    System.arraycopy(head, 0, record, 0, head.length);
    System.arraycopy(content, 0, record, head.length, length);
    record[record.length - 1] = '\n';
    out.write(record);
  }

  /** ReopenContainerLog: later lines go to a new file at the same path. */
  public synchronized void reopen() throws IOException {
    OutputStream old = out;
    out = open(logFile);
    old.close();
  }

  /** Waits up to {@code millis} for the readers to reach the end of their fifos. */
  public void await(long millis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    for (Thread reader : readers) {
      long left = deadline - System.currentTimeMillis();
      if (left > 0) {
        reader.join(left);
      }
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    taps.values().forEach(list -> list.forEach(OutputTap::end));
    try {
      out.close();
    } catch (IOException e) {
      // nothing more to write
    }
  }
}
