package dev.jctr.metadata.grpc;

import dev.jctr.metadata.gc.GarbageCollector;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Delete's {@code sync}: the call returns after a collection that follows the deletion. */
final class SyncCollection {

  private SyncCollection() {}

  static void await(boolean sync, GarbageCollector collector) {
    if (!sync || collector == null) {
      return;
    }
    try {
      collector.collectNow();
    } catch (IOException e) {
      throw new UncheckedIOException("garbage collection after the deletion: "
          + e.getMessage(), e);
    }
  }
}
