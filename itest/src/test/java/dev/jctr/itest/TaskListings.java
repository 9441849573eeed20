package dev.jctr.itest;

import java.time.Duration;
import java.util.function.Supplier;

/** Waiting for a task to reach a status in a `tasks ls` table (ctr's or jctr's). */
final class TaskListings {

  private TaskListings() {}

  /** Polls {@code listing} until task {@code id} shows {@code status}; 10 s at most. */
  static void await(Supplier<String> listing, String id, String status)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String table = "";
    while (System.nanoTime() < deadline) {
      table = listing.get();
      if (table.matches("(?s)(.*\\n)?" + id + "\\s+\\d+\\s+" + status + "\\b.*")) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError(id + " never became " + status + ":\n" + table);
  }
}
