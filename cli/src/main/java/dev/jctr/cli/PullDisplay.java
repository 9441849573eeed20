package dev.jctr.cli;

import dev.jctr.api.proto.jctr.services.images.v1.PullProgress;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A pull's progress on standard error: on a terminal, one line per blob redrawn in place with
 * a bar, bytes and rate, and a total; otherwise a line per change of status, for logs.
 */
final class PullDisplay {

  private static final int BAR = 24;

  private final PrintWriter err;
  private final boolean terminal;
  private final Map<String, PullProgress> blobs = new LinkedHashMap<>();
  private final long started = System.nanoTime();
  private int drawn;

  PullDisplay(PrintWriter err, boolean terminal) {
    this.err = err;
    this.terminal = terminal;
  }

  void update(PullProgress update) {
    PullProgress before = blobs.put(update.getRef(), update);
    if (terminal) {
      redraw();
    } else if (before == null || !before.getStatus().equals(update.getStatus())) {
      err.println(shortRef(update.getRef()) + " " + update.getStatus()
          + (update.getTotal() > 0 ? " " + SnapshotsCommand.humanSize(update.getTotal()) : ""));
      err.flush();
    }
  }

  void finish() {
    if (terminal) {
      redraw();
    }
    long done = 0;
    for (PullProgress blob : blobs.values()) {
      done += blob.getOffset();
    }
    double seconds = Math.max(0.001, (System.nanoTime() - started) / 1e9);
    err.printf("%s in %.1f s (%s/s)%n", SnapshotsCommand.humanSize(done), seconds,
        SnapshotsCommand.humanSize((long) (done / seconds)));
    err.flush();
  }

  private void redraw() {
    StringBuilder text = new StringBuilder();
    if (drawn > 0) {
      text.append("\u001b[").append(drawn).append('A');
    }
    long done = 0;
    long total = 0;
    for (PullProgress blob : blobs.values()) {
      done += blob.getOffset();
      total += blob.getTotal();
      text.append("\r\u001b[K").append(line(blob)).append('\n');
    }
    text.append("\r\u001b[K").append("total ").append(bar(done, total)).append(' ')
        .append(SnapshotsCommand.humanSize(done)).append('/')
        .append(SnapshotsCommand.humanSize(total)).append('\n');
    drawn = blobs.size() + 1;
    err.print(text);
    err.flush();
  }

  private static String line(PullProgress blob) {
    return String.format("%-19s %-11s %s %s/%s", shortRef(blob.getRef()), blob.getStatus(),
        bar(blob.getOffset(), blob.getTotal()), SnapshotsCommand.humanSize(blob.getOffset()),
        SnapshotsCommand.humanSize(blob.getTotal()));
  }

  static String bar(long done, long total) {
    int filled = total <= 0 ? 0 : (int) Math.min(BAR, done * BAR / total);
    return "[" + "=".repeat(filled) + " ".repeat(BAR - filled) + "]";
  }

  static String shortRef(String ref) {
    return ref.startsWith("sha256:") ? ref.substring(0, Math.min(ref.length(), 19)) : ref;
  }
}
