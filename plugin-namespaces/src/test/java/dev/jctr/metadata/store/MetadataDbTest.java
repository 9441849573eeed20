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
