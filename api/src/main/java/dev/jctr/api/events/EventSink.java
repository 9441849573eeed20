package dev.jctr.api.events;

import dev.jctr.api.proto.containerd.types.Envelope;

/** Receives one subscription's events. Calls come from one thread at a time, in order. */
public interface EventSink {

  /** One matching event. */
  void deliver(Envelope envelope);

  /**
   * The subscriber fell behind by more than its queue holds; no further event is delivered.
   *
   * @param dropped how many events could not be queued when the subscription was closed
   */
  void overflowed(long dropped);
}
