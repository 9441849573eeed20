package dev.jctr.shim;

import dev.jctr.runtime.runc.RuncRuntime;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A process's stdio as the client named it (fifos, usually; "" for none), handed straight to
 * the process: no copying. The shim holds each fifo open read-write meanwhile, so that opening
 * never blocks, the process never gets EPIPE while no reader is attached, and stdin stays
 * open until the client's CloseIO (then end of file reaches the process once the client's
 * writer closes too). Output holders close when the process exits, so readers see the end.
 */
final class ProcessStdio implements AutoCloseable {

  private final String stdin;
  private final String stdout;
  private final String stderr;
  private RandomAccessFile stdinHolder;
  private final List<RandomAccessFile> outputHolders = new ArrayList<>();

  ProcessStdio(String stdin, String stdout, String stderr) {
    this.stdin = stdin;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  String stdin() {
    return stdin;
  }

  String stdout() {
    return stdout;
  }

  String stderr() {
    return stderr;
  }

  /** Opens the holders and returns the files runc hands on to the process. */
  RuncRuntime.Stdio open() throws IOException {
    File in = null;
    if (!stdin.isEmpty()) {
      in = file(stdin);
      if (isFifo(in)) {
        stdinHolder = new RandomAccessFile(in, "rw");
      }
    }
    File out = output(stdout);
    File err = output(stderr);
    return new RuncRuntime.Stdio(in, out, err);
  }

  private File output(String path) throws IOException {
    if (path.isEmpty()) {
      return null;
    }
    File file = file(path);
    if (isFifo(file)) {
      outputHolders.add(new RandomAccessFile(file, "rw"));
    }
    return file;
  }

  private static File file(String path) {
    String plain = path.startsWith("file://") ? path.substring("file://".length()) : path;
    if (!plain.startsWith("/")) {
      throw new dev.jctr.api.errors.InvalidArgumentException("stdio path \"" + path
          + "\" must be absolute");
    }
    return new File(plain);
  }

  private static boolean isFifo(File file) throws IOException {
    return Files.exists(file.toPath())
        && Files.getAttribute(file.toPath(), "unix:mode") instanceof Integer mode
        && (mode & 0170000) == 0010000;
  }

  /** CloseIO: the process's stdin reaches end of file once the client's writer closes. */
  synchronized void closeStdin() {
    closeQuietly(stdinHolder);
    stdinHolder = null;
  }

  /** The process exited: readers of its output see end of file. */
  @Override
  public synchronized void close() {
    closeStdin();
    outputHolders.forEach(ProcessStdio::closeQuietly);
    outputHolders.clear();
  }

  private static void closeQuietly(RandomAccessFile file) {
    if (file != null) {
      try {
        file.close();
      } catch (IOException e) {
        // nothing to keep
      }
    }
  }

  static Path path(String path) {
    return file(path).toPath();
  }
}
