package dev.jctr.metadata.store;

import com.google.protobuf.Timestamp;
import java.time.Instant;

/** The server's clock, as protobuf timestamps. */
final class Timestamps {

  private Timestamps() {}

  static Timestamp now() {
    Instant now = Instant.now();
    return Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()).build();
  }
}
