package dev.jctr.cri.streaming;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Exec, Attach and PortForward requests waiting for their client to connect: a token of 8 random
 * URL-safe characters each, used once, valid for a minute, at most 1000 waiting.
 */
public final class StreamRequests {

  /** What a token stands for. */
  public sealed interface Pending permits Exec, Attach, PortForward {}

  public record Exec(String containerId, List<String> cmd, boolean tty, boolean stdin,
      boolean stdout, boolean stderr) implements Pending {}

  public record Attach(String containerId, boolean tty, boolean stdin, boolean stdout,
      boolean stderr) implements Pending {}

  public record PortForward(String sandboxId, String netns, List<Integer> ports)
      implements Pending {}

  private record Entry(Pending request, long expires) {}

  private static final long VALIDITY_NANOS = 60_000_000_000L;
  private static final int LIMIT = 1000;

  private final SecureRandom random = new SecureRandom();
  private final Map<String, Entry> pending = new LinkedHashMap<>();

  public synchronized String add(Pending request) {
    expire();
    if (pending.size() >= LIMIT) {
      throw new IllegalStateException("too many streaming requests in flight (" + LIMIT + ")");
    }
    byte[] bytes = new byte[6];
    String token;
    do {
      random.nextBytes(bytes);
      token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    } while (pending.containsKey(token));
    pending.put(token, new Entry(request, System.nanoTime() + VALIDITY_NANOS));
    return token;
  }

  /** The request of {@code token}, removed (single use), or null when unknown or expired. */
  public synchronized Pending take(String token) {
    expire();
    Entry entry = pending.remove(token);
    return entry == null ? null : entry.request();
  }

  private void expire() {
    long now = System.nanoTime();
    for (Iterator<Entry> it = pending.values().iterator(); it.hasNext(); ) {
      if (it.next().expires() - now < 0) {
        it.remove();
      }
    }
  }
}
