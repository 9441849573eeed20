package dev.jctr.api.identifiers;

import dev.jctr.api.errors.InvalidArgumentException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** containerd's label rule: a key is not empty, and key plus value are at most 4096 bytes. */
public final class Labels {

  public static final int MAX_BYTES = 4096;

  private Labels() {}

  /**
   * Returns {@code labels} when every label is within the limit.
   *
   * @param owner what carries the labels, for the message ({@code container "web"})
   * @throws InvalidArgumentException naming the owner and the label otherwise
   */
  public static Map<String, String> validate(String owner, Map<String, String> labels) {
    for (var label : labels.entrySet()) {
      validate(owner, label.getKey(), label.getValue());
    }
    return labels;
  }

  public static void validate(String owner, String key, String value) {
    if (key.isEmpty()) {
      throw new InvalidArgumentException(owner + ": label key must not be empty");
    }
    int size = key.getBytes(StandardCharsets.UTF_8).length
        + value.getBytes(StandardCharsets.UTF_8).length;
    if (size > MAX_BYTES) {
      String shown = key.length() > 64 ? key.substring(0, 64) + "..." : key;
      throw new InvalidArgumentException(owner + ": label \"" + shown + "\": key and value are "
          + size + " bytes, more than the " + MAX_BYTES + " allowed");
    }
  }
}
