package dev.jctr.api.events;

/** An active subscription. Closing it is idempotent; no event is delivered after it returns. */
public interface Subscription extends AutoCloseable {

  @Override
  void close();
}
