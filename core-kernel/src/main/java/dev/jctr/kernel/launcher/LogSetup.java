package dev.jctr.kernel.launcher;

import java.io.PrintStream;
import java.time.Instant;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * One logging backend for the whole process: java.util.logging, which grpc and netty use
 * already and which {@link System.Logger} (our facade) routes to. One line per event on stderr.
 */
final class LogSetup {

  private static final Map<String, Level> LEVELS = Map.of(
      "trace", Level.FINEST, "debug", Level.FINE, "info", Level.INFO,
      "warn", Level.WARNING, "error", Level.SEVERE);

  private LogSetup() {}

  static void configure(String level, PrintStream out) {
    LogManager.getLogManager().reset();
    Level threshold = LEVELS.getOrDefault(level, Level.INFO);
    // A StreamHandler of our own: ConsoleHandler.setOutputStream would close System.err.
    Handler handler = new StreamHandler(out, new LineFormatter()) {
      @Override
      public synchronized void publish(LogRecord record) {
        super.publish(record);
        flush();
      }

      @Override
      public synchronized void close() {
        flush(); // the stream is the process's stderr: never close it
      }
    };
    handler.setLevel(threshold);
    Logger rootLogger = Logger.getLogger("");
    rootLogger.setLevel(threshold);
    rootLogger.addHandler(handler);
    // Netty warns that SO_KEEPALIVE does not apply to unix sockets on every connection.
    QUIETED.setLevel(Level.SEVERE);
  }

  /** Held strongly: java.util.logging forgets a logger's level once nobody references it. */
  private static final Logger QUIETED = Logger.getLogger("io.netty.bootstrap");

  /** {@code time=... level=info logger=... msg="..."}, the shape containerd's logs have. */
  static final class LineFormatter extends Formatter {
    @Override
    public String format(LogRecord record) {
      StringBuilder line = new StringBuilder(160)
          .append("time=").append(Instant.ofEpochMilli(record.getMillis()))
          .append(" level=").append(levelName(record.getLevel()))
          .append(" logger=").append(shortName(record.getLoggerName()))
          .append(" msg=\"").append(formatMessage(record).replace("\"", "\\\"")).append('"');
      if (record.getThrown() != null) {
        line.append(" error=\"").append(String.valueOf(record.getThrown()).replace("\"", "\\\""))
            .append('"');
        if (record.getLevel().intValue() <= Level.FINE.intValue()
            || record.getLevel().intValue() >= Level.SEVERE.intValue()) {
          for (StackTraceElement frame : record.getThrown().getStackTrace()) {
            line.append("\n\tat ").append(frame);
          }
        }
      }
      return line.append('\n').toString();
    }

    private static String levelName(Level level) {
      int value = level.intValue();
      if (value >= Level.SEVERE.intValue()) {
        return "error";
      }
      if (value >= Level.WARNING.intValue()) {
        return "warn";
      }
      if (value >= Level.INFO.intValue()) {
        return "info";
      }
      return value >= Level.FINE.intValue() ? "debug" : "trace";
    }

    private static String shortName(String name) {
      if (name == null) {
        return "-";
      }
      int dot = name.lastIndexOf('.');
      return dot < 0 ? name : name.substring(dot + 1);
    }
  }
}
