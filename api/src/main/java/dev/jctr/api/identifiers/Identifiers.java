package dev.jctr.api.identifiers;

import dev.jctr.api.errors.InvalidArgumentException;
import java.util.regex.Pattern;

/**
 * containerd's identifier rule, used for namespaces, container ids, task ids and event topic
 * components: letters and digits, with single {@code .}, {@code _} or {@code -} between them,
 * 1 to 76 characters.
 */
public final class Identifiers {

  public static final int MAX_LENGTH = 76;
  public static final String RULE = "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$";

  private static final Pattern PATTERN = Pattern.compile(RULE);

  private Identifiers() {}

  public static boolean isValid(String value) {
    return value != null
        && !value.isEmpty()
        && value.length() <= MAX_LENGTH
        && PATTERN.matcher(value).matches();
  }

  /**
   * Returns {@code value} when it is a valid identifier.
   *
   * @param kind what the identifier names, for the message ("namespace", "container id")
   * @throws InvalidArgumentException naming the kind and the value when it is not
   */
  public static String validate(String kind, String value) {
    if (value == null || value.isEmpty()) {
      throw new InvalidArgumentException(kind + ": identifier must not be empty");
    }
    if (value.length() > MAX_LENGTH) {
      throw new InvalidArgumentException(
          kind + " \"" + abbreviate(value) + "\": identifier is longer than " + MAX_LENGTH
              + " characters");
    }
    if (!PATTERN.matcher(value).matches()) {
      throw new InvalidArgumentException(
          kind + " \"" + value + "\": identifier must match " + RULE);
    }
    return value;
  }

  private static String abbreviate(String value) {
    return value.length() <= MAX_LENGTH ? value : value.substring(0, MAX_LENGTH) + "...";
  }
}
