package dev.jctr.events.exchange;

import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.events.EventExchange;
import dev.jctr.api.events.EventPublisher;
import dev.jctr.api.events.EventSink;
import dev.jctr.api.events.Subscription;
import dev.jctr.api.events.Topics;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.identifiers.Identifiers;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.types.Envelope;
import dev.jctr.api.typeurl.TypeUrls;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * containerd's {@code io.containerd.event.v1.exchange}. Publishing matches the envelope against
 * every subscriber's filter and queues it; it never waits for a subscriber. Dispatch is
 * serialised so that every subscriber sees events in the same order.
 */
@Component(service = {EventExchange.class, EventPublisher.class},
    name = "io.containerd.event.v1.exchange")
@Plugin(type = PluginTypes.EVENT, id = "exchange")
public final class EventExchangeService implements EventExchange {

  /** Events a subscriber may be behind before it is cut off. */
  public static final int QUEUE_CAPACITY = 1024;

  private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
  private final int capacity;
  private final Object dispatch = new Object();

  public EventExchangeService() {
    this(QUEUE_CAPACITY);
  }

  /** For tests: subscribers with a queue of {@code capacity}. */
  public EventExchangeService(int capacity) {
    this.capacity = capacity;
  }

  @Override
  public void publish(String namespace, String topic, Message event) {
    Identifiers.validate("namespace", namespace);
    Topics.validate(topic);
    Instant now = Instant.now();
    dispatch(Envelope.newBuilder()
        .setTimestamp(Timestamp.newBuilder().setSeconds(now.getEpochSecond())
            .setNanos(now.getNano()))
        .setNamespace(namespace)
        .setTopic(topic)
        .setEvent(TypeUrls.pack(event))
        .build());
  }

  @Override
  public void forward(Envelope envelope) {
    Identifiers.validate("namespace", envelope.getNamespace());
    Topics.validate(envelope.getTopic());
    if (!envelope.hasTimestamp()) {
      throw new InvalidArgumentException("envelope " + envelope.getTopic()
          + ": timestamp is required");
    }
    if (!envelope.hasEvent()) {
      throw new InvalidArgumentException("envelope " + envelope.getTopic()
          + ": event is required");
    }
    dispatch(envelope);
  }

  @Override
  public Subscription subscribe(List<String> filters, EventSink sink) {
    Subscriber subscriber = new Subscriber(Filter.parseAny(filters), sink, capacity,
        subscribers::remove);
    subscribers.add(subscriber);
    subscriber.start();
    return subscriber;
  }

  /** How many subscriptions are open. */
  public int subscriberCount() {
    return subscribers.size();
  }

  private void dispatch(Envelope envelope) {
    EnvelopeFields fields = new EnvelopeFields(envelope);
    synchronized (dispatch) {
      for (Subscriber subscriber : subscribers) {
        if (subscriber.wants(fields)) {
          subscriber.offer(envelope);
        }
      }
    }
  }

  @Deactivate
  void deactivate() {
    subscribers.forEach(Subscriber::close);
  }
}
