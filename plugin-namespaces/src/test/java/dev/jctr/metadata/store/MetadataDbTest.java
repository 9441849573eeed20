package dev.jctr.metadata.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetadataDbTest {

  @TempDir Path dir;

  @Test
  void aWriteThatThrowsKeepsNothing() {
    try (MetadataDb db = MetadataDb.open(dir)) {
      assertThrows(IllegalStateException.class, () -> db.write(tx -> {
        tx.put(bytes("k"), bytes("v"));
        throw new IllegalStateException("abort");
      }));
      assertTrue(db.read(tx -> tx.get(bytes("k"))).isEmpty());
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void writesThatQueueUpCommitTogetherAndAFailedOneKeepsNothing() throws Exception {
    try (MetadataDb db = MetadataDb.open(dir)) {
      java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
      var first = pool.submit(() -> db.write(tx -> { // holds the writer while others queue
        holding.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        tx.put(bytes("first"), bytes("1"));
        return "first";
      }));
      holding.await();
      long before = db.commits();
      var second = pool.submit(() -> db.write(tx -> {
        tx.put(bytes("second"), bytes("2"));
        return "second";
      }));
      var failing = pool.submit(() -> db.write(tx -> {
        tx.put(bytes("failing"), bytes("x"));
        throw new IllegalArgumentException("refused");
      }));
      var third = pool.submit(() -> db.write(tx -> {
        tx.put(bytes("third"), bytes("3"));
        return "third";
      }));
      Thread.sleep(200); // all three wait in the queue
      release.countDown();
      assertEquals("first", first.get());
      assertEquals("second", second.get());
      assertEquals("third", third.get());
      var failed = assertThrows(java.util.concurrent.ExecutionException.class, failing::get);
      assertEquals("refused", failed.getCause().getMessage());
      assertEquals(2, db.commits() - before, "the first alone, then the three queued"
          + " behind it in one transaction");
      assertTrue(db.read(tx -> tx.get(bytes("failing"))).isEmpty(), "nothing of the failed");
      for (String key : java.util.List.of("first", "second", "third")) {
        assertTrue(db.read(tx -> tx.get(bytes(key))).isPresent(), key);
      }
      pool.shutdown();
    }
    try (MetadataDb db = MetadataDb.open(dir)) {
      assertTrue(db.read(tx -> tx.get(bytes("third"))).isPresent(), "durable");
      assertTrue(db.read(tx -> tx.get(bytes("failing"))).isEmpty());
    }
  }

  @Test
  void committedWritesSurviveReopening() throws Exception {
    try (MetadataDb db = MetadataDb.open(dir)) {
      db.write(tx -> {
        tx.put(bytes("k"), bytes("v"));
        return null;
      });
    }
    try (MetadataDb db = MetadataDb.open(dir)) {
      assertEquals("v", new String(db.read(tx -> tx.get(bytes("k"))).orElseThrow(),
          StandardCharsets.UTF_8));
    }
  }

  @Test
  void recordsItsSchemaVersion() throws Exception {
    try (MetadataDb db = MetadataDb.open(dir)) {
      assertEquals(Integer.toString(MetadataDb.SCHEMA_VERSION),
          new String(db.read(tx -> tx.get(Keys.SCHEMA)).orElseThrow(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void refusesADatabaseFromANewerVersion() throws Exception {
    try (MetadataDb db = MetadataDb.open(dir)) {
      db.write(tx -> {
        tx.put(Keys.SCHEMA, bytes(Integer.toString(MetadataDb.SCHEMA_VERSION + 1)));
        return null;
      });
    }
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> MetadataDb.open(dir));
    assertTrue(e.getMessage().contains("newer than this jctrd"), e.getMessage());
  }

  @Test
  void scanStopsAtTheEndOfItsPrefix() throws Exception {
    try (MetadataDb db = MetadataDb.open(dir)) {
      db.write(tx -> {
        tx.put(Keys.container("a", "x"), bytes("1"));
        tx.put(Keys.container("ab", "y"), bytes("2"));
        tx.put(Keys.container("a", "z"), bytes("3"));
        return null;
      });
      assertEquals(2, db.read(tx -> tx.scan(Keys.containers("a"))).size());
      assertEquals(1, db.read(tx -> tx.scan(Keys.containers("ab"))).size());
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
