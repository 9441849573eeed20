package dev.jctr.cli;

import java.io.PrintWriter;

/**
 * An upload's progress on standard error: on a terminal one line redrawn in place with a bar,
 * bytes and rate; otherwise a line at each quarter, for logs.
 */
final class UploadDisplay {

  private final PrintWriter err;
  private final boolean terminal;
  private final String what;
  private final long total;
  private final long started = System.nanoTime();
  private long sent;
  private long lastDrawn;
  private int quarter;

  UploadDisplay(PrintWriter err, boolean terminal, String what, long total) {
    this.err = err;
    this.terminal = terminal;
    this.what = what;
    this.total = total;
  }

  void sent(long bytes) {
    sent += bytes;
    long now = System.nanoTime();
    if (terminal && now - lastDrawn > 100_000_000L) {
      lastDrawn = now;
      err.print("\r\u001b[K" + line());
      err.flush();
    } else if (!terminal && total > 0 && sent * 4 / total > quarter) {
      quarter = (int) (sent * 4 / total);
      err.println(line());
      err.flush();
    }
  }

  void finish() {
    err.print(terminal ? "\r\u001b[K" + line() + "\n" : "");
    err.printf("sent %s in %.1f s%n", SnapshotsCommand.humanSize(sent), seconds());
    err.flush();
  }

  private double seconds() {
    return Math.max(0.001, (System.nanoTime() - started) / 1e9);
  }

  private String line() {
    return String.format("%s %s %s/%s %s/s", what, PullDisplay.bar(sent, total),
        SnapshotsCommand.humanSize(sent), total > 0 ? SnapshotsCommand.humanSize(total) : "?",
        SnapshotsCommand.humanSize((long) (sent / seconds())));
  }
}
