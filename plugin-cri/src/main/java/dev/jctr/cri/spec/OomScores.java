package dev.jctr.cri.spec;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Clamps {@code oom_score_adj} values a container asks for, as containerd's
 * {@code restrict_oom_score_adj} does: a process without CAP_SYS_RESOURCE cannot go below its
 * own score, and runc would fail the container's start ("can't get final child's PID from
 * pipe"). Such requests get the daemon's own score, and the log says so.
 */
public final class OomScores {

  private static final Logger LOG = System.getLogger(OomScores.class.getName());
  private static final int CAP_SYS_RESOURCE = 24;

  private final boolean canLower;
  private final int own;

  public OomScores(boolean canLower, int own) {
    this.canLower = canLower;
    this.own = own;
  }

  /** The daemon's own situation, from /proc/self. */
  public static OomScores ofThisProcess() {
    int own = 0;
    boolean canLower = false;
    try {
      own = Integer.parseInt(Files.readString(Path.of("/proc/self/oom_score_adj")).strip());
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          long caps = Long.parseUnsignedLong(line.substring(7).strip(), 16);
          canLower = (caps & (1L << CAP_SYS_RESOURCE)) != 0;
        }
      }
    } catch (IOException | RuntimeException e) {
      canLower = false;
    }
    return new OomScores(canLower, own);
  }

  public int clamp(int requested, String who) {
    if (canLower || requested >= own) {
      return requested;
    }
    LOG.log(Level.INFO, "oom_score_adj " + requested + " for " + who + " clamped to the"
        + " daemon's own " + own + ": lowering it needs CAP_SYS_RESOURCE, which this daemon"
        + " lacks");
    return own;
  }
}
