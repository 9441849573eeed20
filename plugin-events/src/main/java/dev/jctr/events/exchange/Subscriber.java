package dev.jctr.events.exchange;

import dev.jctr.api.events.EventSink;
import dev.jctr.api.events.Subscription;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.proto.containerd.types.Envelope;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One subscription: a bounded queue filled by publishers, which never wait, and drained into the
 * sink by a virtual thread of its own. A full queue closes the subscription: the sink hears
 * {@link EventSink#overflowed} once and nothing after.
 */
final class Subscriber implements Subscription {

  private static final Logger LOG = System.getLogger(Subscriber.class.getName());

  private final Filter filter;
  private final EventSink sink;
  private final BlockingQueue<Envelope> queue;
  private final Consumer<Subscriber> onClose;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile long dropped;
  private final Thread drainer;

  Subscriber(Filter filter, EventSink sink, int capacity, Consumer<Subscriber> onClose) {
    this.filter = filter;
    this.sink = sink;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.onClose = onClose;
    this.drainer = Thread.ofVirtual().name("jctr-events-subscriber").unstarted(this::drain);
  }

  void start() {
    drainer.start();
  }

  boolean wants(EnvelopeFields fields) {
    return filter.matches(fields);
  }

  /** Queues {@code envelope} without waiting; a full queue closes the subscription. */
  void offer(Envelope envelope) {
    if (closed.get() || queue.offer(envelope)) {
      return;
    }
    dropped = 1;
    shutDown();
  }

  @Override
  public void close() {
    shutDown();
    if (Thread.currentThread() != drainer) {
      try {
        // no event is delivered once close returns: wait for a delivery in progress
        drainer.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void shutDown() {
    if (closed.compareAndSet(false, true)) {
      onClose.accept(this);
      drainer.interrupt();
    }
  }

  private void drain() {
    while (!closed.get()) {
      Envelope next;
      try {
        next = queue.take();
      } catch (InterruptedException e) {
        continue; // closed, checked above
      }
      if (closed.get()) {
        break;
      }
      try {
        sink.deliver(next);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "event subscriber failed; closing its subscription", e);
        shutDown();
      }
    }
    queue.clear();
    if (dropped > 0) {
      sink.overflowed(dropped);
    }
  }
}
