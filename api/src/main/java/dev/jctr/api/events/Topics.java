package dev.jctr.api.events;

import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.identifiers.Identifiers;

/** containerd's topics: {@code /} followed by identifiers joined by {@code /}. */
public final class Topics {

  public static final String NAMESPACE_CREATE = "/namespaces/create";
  public static final String NAMESPACE_UPDATE = "/namespaces/update";
  public static final String NAMESPACE_DELETE = "/namespaces/delete";
  public static final String CONTAINER_CREATE = "/containers/create";
  public static final String CONTAINER_UPDATE = "/containers/update";
  public static final String CONTAINER_DELETE = "/containers/delete";
  public static final String SNAPSHOT_PREPARE = "/snapshot/prepare";
  public static final String SNAPSHOT_COMMIT = "/snapshot/commit";
  public static final String SNAPSHOT_REMOVE = "/snapshot/remove";
  public static final String CONTENT_CREATE = "/content/create";
  public static final String IMAGE_CREATE = "/images/create";
  public static final String IMAGE_UPDATE = "/images/update";
  public static final String IMAGE_DELETE = "/images/delete";
  public static final String CONTENT_DELETE = "/content/delete";

  private Topics() {}

  /**
   * Returns {@code topic} when it is well formed.
   *
   * @throws InvalidArgumentException naming the topic otherwise
   */
  public static String validate(String topic) {
    if (topic == null || topic.isEmpty()) {
      throw new InvalidArgumentException("topic: must not be empty");
    }
    if (!topic.startsWith("/")) {
      throw new InvalidArgumentException("topic \"" + topic + "\": must start with /");
    }
    for (String component : topic.substring(1).split("/", -1)) {
      if (!Identifiers.isValid(component)) {
        throw new InvalidArgumentException("topic \"" + topic + "\": component \"" + component
            + "\" must match " + Identifiers.RULE);
      }
    }
    return topic;
  }
}
