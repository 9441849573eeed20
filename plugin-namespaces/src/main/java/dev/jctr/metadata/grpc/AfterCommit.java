package dev.jctr.metadata.grpc;

import com.google.protobuf.Message;
import dev.jctr.api.events.EventPublisher;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.function.Supplier;

/**
 * Publishes a metadata event once its transaction has committed. The exchange is optional: with
 * no events plugin running the change still happens, nobody hears of it.
 */
final class AfterCommit {

  private static final Logger LOG = System.getLogger(AfterCommit.class.getName());

  private AfterCommit() {}

  static void publish(Supplier<EventPublisher> publisher, String namespace, String topic,
      Message event) {
    EventPublisher current = publisher.get();
    if (current == null) {
      return;
    }
    try {
      current.publish(namespace, topic, event);
    } catch (RuntimeException e) {
      // the change is committed; a failed notification must not turn it into an error
      LOG.log(Level.WARNING, "could not publish " + topic + " in " + namespace, e);
    }
  }
}
