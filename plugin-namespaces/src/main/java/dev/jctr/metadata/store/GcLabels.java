package dev.jctr.metadata.store;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;

/** containerd's garbage-collection labels and how to read them. */
final class GcLabels {

  static final String PREFIX = "containerd.io/gc.";
  static final String ROOT = "containerd.io/gc.root";
  static final String EXPIRE = "containerd.io/gc.expire";
  static final String FLAT = "containerd.io/gc.flat";
  private static final String REF_CONTENT = "containerd.io/gc.ref.content";
  private static final String REF_SNAPSHOT = "containerd.io/gc.ref.snapshot.";

  private GcLabels() {}

  /** Whether going from {@code before} to {@code after} removed or changed a gc label. */
  static boolean dropsReference(Map<String, String> before, Map<String, String> after) {
    for (var label : before.entrySet()) {
      if (label.getKey().startsWith(PREFIX)
          && !label.getValue().equals(after.get(label.getKey()))) {
        return true;
      }
    }
    return false;
  }

  /** {@code containerd.io/gc.ref.content} and {@code ...content.<x>} / {@code .../<x>}. */
  static boolean isContentRef(String key) {
    if (!key.startsWith(REF_CONTENT)) {
      return false;
    }
    if (key.length() == REF_CONTENT.length()) {
      return true;
    }
    char separator = key.charAt(REF_CONTENT.length());
    return separator == '.' || separator == '/';
  }

  /**
   * The snapshotter a {@code containerd.io/gc.ref.snapshot.<snapshotter>[/<name>]} label names,
   * if {@code key} is one.
   */
  static Optional<String> snapshotRef(String key) {
    if (!key.startsWith(REF_SNAPSHOT) || key.length() == REF_SNAPSHOT.length()) {
      return Optional.empty();
    }
    String rest = key.substring(REF_SNAPSHOT.length());
    int slash = rest.indexOf('/');
    return Optional.of(slash < 0 ? rest : rest.substring(0, slash));
  }

  /** Whether {@code containerd.io/gc.expire} says the owner has expired at {@code now}. */
  static boolean expired(Map<String, String> labels, Instant now) {
    String expire = labels.get(EXPIRE);
    if (expire == null) {
      return false;
    }
    try {
      return Instant.parse(expire).isBefore(now);
    } catch (DateTimeParseException e) {
      return false; // unreadable: containerd keeps it too
    }
  }
}
