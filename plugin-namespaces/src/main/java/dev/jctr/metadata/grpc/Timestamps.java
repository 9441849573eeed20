package dev.jctr.metadata.grpc;

import com.google.protobuf.Timestamp;
import java.time.Instant;

/** Instants as protobuf timestamps. */
final class Timestamps {

  private Timestamps() {}

  static Timestamp of(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano()).build();
  }
}
