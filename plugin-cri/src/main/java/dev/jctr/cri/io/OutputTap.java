package dev.jctr.cri.io;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A copy of a container's output for one attached client, read as a stream. The logger offers
 * what it copies and never waits: a client that falls more than {@code CAPACITY} chunks behind
 * loses output (the log file has all of it), so a slow client cannot stall the container.
 */
public final class OutputTap extends InputStream {

  private static final int CAPACITY = 256;
  private static final byte[] END = new byte[0];

  private final BlockingQueue<byte[]> chunks = new ArrayBlockingQueue<>(CAPACITY);
  private byte[] current = new byte[0];
  private int position;
  private volatile boolean ended;

  /** Called by the logger's reader: a copy of {@code length} bytes, or nothing when full. */
  void offer(byte[] data, int length) {
    if (ended) {
      return;
    }
    byte[] copy = new byte[length];
    System.arraycopy(data, 0, copy, 0, length);
    chunks.offer(copy); // false when the client is too far behind: the chunk is dropped
  }

  /** No more output: the reader sees end of stream once it has what was offered. */
  public void end() {
    if (!ended) {
      ended = true;
      chunks.offer(END); // a full queue still ends: read() polls with a timeout
    }
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    try {
      while (position == current.length) {
        byte[] next = chunks.poll(200, TimeUnit.MILLISECONDS);
        if (next == END || next == null && ended && chunks.isEmpty()) {
          return -1;
        }
        if (next != null) {
          current = next;
          position = 0;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for output", e);
    }
    int n = Math.min(length, current.length - position);
    System.arraycopy(current, position, buffer, offset, n);
    position += n;
    return n;
  }

  @Override
  public void close() {
    end();
  }
}
