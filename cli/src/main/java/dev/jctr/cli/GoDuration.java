package dev.jctr.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as ctr accepts them: {@code 90s}, {@code 1h30m}, {@code 1.5h}, {@code 250ms}. */
final class GoDuration {

  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

  private GoDuration() {}

  static Duration parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("duration: must not be empty (e.g. 1h, 30m, 90s)");
    }
    if (text.equals("0")) {
      return Duration.ZERO; // Go's one unitless duration
    }
    Matcher m = PART.matcher(text);
    int at = 0;
    double nanos = 0;
    while (at < text.length()) {
      if (!m.find(at) || m.start() != at) {
        throw new IllegalArgumentException("duration \"" + text
            + "\": expected a number and a unit (ns, us, ms, s, m, h), e.g. 1h30m");
      }
      double value = Double.parseDouble(m.group(1));
      nanos += value * switch (m.group(2)) {
        case "ns" -> 1d;
        case "us", "µs" -> 1e3;
        case "ms" -> 1e6;
        case "s" -> 1e9;
        case "m" -> 60e9;
        default -> 3600e9;
      };
      at = m.end();
    }
    return Duration.ofNanos((long) nanos);
  }
}
