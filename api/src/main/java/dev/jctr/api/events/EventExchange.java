package dev.jctr.api.events;

import dev.jctr.api.proto.containerd.types.Envelope;
import java.util.List;

/**
 * The daemon's event exchange (containerd's {@code io.containerd.event.v1.exchange}): events
 * published here, or forwarded from shims, reach every subscriber whose filters match.
 *
 * <p>Each subscriber has a bounded queue. A subscriber that falls so far behind that its queue
 * is full is closed with {@link EventSink#overflowed}, rather than slowing publishers down or
 * silently losing events in the middle of its stream.
 */
public interface EventExchange extends EventPublisher {

  /**
   * Delivers an envelope published elsewhere (a shim) as it is, keeping its namespace, topic
   * and timestamp.
   *
   * @throws dev.jctr.api.errors.InvalidArgumentException when the namespace or topic is malformed
   *     or the timestamp is missing
   */
  void forward(Envelope envelope);

  /**
   * Starts delivering matching envelopes, in publication order, to {@code sink} from a thread of
   * the exchange's own. Filters use containerd's syntax over the fields {@code topic},
   * {@code namespace} and {@code event.<field>}; several filters match if any does; none match
   * everything, in every namespace.
   *
   * @throws dev.jctr.api.errors.InvalidArgumentException for a malformed filter
   */
  Subscription subscribe(List<String> filters, EventSink sink);
}
