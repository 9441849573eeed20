package dev.jctr.api.events;

import com.google.protobuf.Message;

/**
 * Publishes events, as containerd's {@code events.Publisher}. Metadata stores publish only after
 * their transaction has committed. Publishing never blocks on subscribers and never fails
 * because of one.
 */
public interface EventPublisher {

  /**
   * Publishes {@code event} on {@code topic} (for example {@code /containers/create}) in
   * {@code namespace}, stamped with the current time and packed with containerd's type URL.
   *
   * @throws dev.jctr.api.errors.InvalidArgumentException for a malformed namespace or topic
   */
  void publish(String namespace, String topic, Message event);
}
