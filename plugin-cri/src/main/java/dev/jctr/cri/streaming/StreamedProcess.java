package dev.jctr.cri.streaming;

import java.io.InputStream;
import java.io.OutputStream;

/** A process whose stdio a streaming session carries: an exec, or a dialed pod port. */
public interface StreamedProcess extends AutoCloseable {

  /** Output channel 1 (stdout; with a terminal, everything). */
  InputStream stdout();

  /** Output channel 2, or null (terminal, or not asked for). */
  InputStream stderr();

  /** Input channel 0, or null when stdin was not asked for. */
  OutputStream stdin();

  void resize(int width, int height);

  /** Waits for the end; the exit code. */
  int await() throws InterruptedException;

  @Override
  void close();
}
