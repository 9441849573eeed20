package dev.jctr.content.local;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.content.ContentWriter;
import dev.jctr.api.content.Digests;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.errors.UnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalContentStoreTest {

  @TempDir Path root;
  private LocalContentStore store;

  @BeforeEach
  void open() throws IOException {
    store = new LocalContentStore(root);
  }

  private static byte[] bytes(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  private byte[] read(String digest) throws IOException {
    try (var in = Channels.newInputStream(store.open(digest))) {
      return in.readAllBytes();
    }
  }

  @Test
  void aCommittedBlobIsItsBytesUnderItsDigestAndReadOnly() throws IOException {
    byte[] data = bytes(3 << 20, 1);
    String digest = Digests.of(data);
    try (ContentWriter writer = store.writer("layer-1", data.length, digest)) {
      writer.write(ByteBuffer.wrap(data, 0, 1000));
      writer.write(ByteBuffer.wrap(data, 1000, data.length - 1000));
      assertEquals(digest, writer.digest());
      assertEquals(digest, writer.commit(data.length, digest));
    }
    assertArrayEquals(data, read(digest));
    assertEquals(data.length, store.info(digest).orElseThrow().size());
    assertFalse(Files.isWritable(root.resolve("blobs/sha256/" + Digests.hex(digest)))
        && !"root".equals(System.getProperty("user.name")), "blobs are read-only");
    assertEquals(List.of(), store.statuses(), "the ingest is gone");
    assertThrows(AlreadyExistsException.class, () -> store.writer("again", 0, digest));
  }

  @Test
  void anInterruptedIngestResumesWhereItStoppedEvenAfterAReopen() throws IOException {
    byte[] data = bytes(1 << 20, 2);
    String digest = Digests.of(data);
    try (ContentWriter writer = store.writer("resumable", data.length, digest)) {
      writer.write(ByteBuffer.wrap(data, 0, 300_000));
    } // closed without commit: the ingest stays
    assertEquals(300_000, store.status("resumable").orElseThrow().offset());
    assertEquals(data.length, store.status("resumable").orElseThrow().total());

    store = new LocalContentStore(root); // as after a restart
    try (ContentWriter writer = store.writer("resumable", 0, "")) {
      assertEquals(300_000, writer.offset());
      assertEquals(digest, writer.status().expected(), "what was expected is remembered");
      writer.write(ByteBuffer.wrap(data, 300_000, data.length - 300_000));
      assertEquals(digest, writer.commit(0, ""));
    }
    assertArrayEquals(data, read(digest));
  }

  @Test
  void aWrongSizeOrDigestMakesNoBlobAndKeepsTheIngest() throws IOException {
    byte[] data = "hello".getBytes(StandardCharsets.UTF_8);
    String wrong = Digests.of("other".getBytes(StandardCharsets.UTF_8));
    try (ContentWriter writer = store.writer("bad", 0, "")) {
      writer.write(ByteBuffer.wrap(data));
      assertTrue(assertThrows(FailedPreconditionException.class,
          () -> writer.commit(4, "")).getMessage().contains("unexpected commit size"));
      assertTrue(assertThrows(FailedPreconditionException.class,
          () -> writer.commit(5, wrong)).getMessage().contains("unexpected commit digest"));
    }
    try (Stream<Path> blobs = Files.list(root.resolve("blobs/sha256"))) {
      assertEquals(0, blobs.count());
    }
    assertEquals(5, store.status("bad").orElseThrow().offset());
    store.abort("bad");
    assertTrue(store.status("bad").isEmpty());
    assertThrows(NotFoundException.class, () -> store.abort("bad"));
  }

  @Test
  void oneWriterPerRefAndBadInputRefused() throws IOException {
    try (ContentWriter first = store.writer("busy", 0, "")) {
      assertTrue(assertThrows(UnavailableException.class, () -> store.writer("busy", 0, ""))
          .getMessage().contains("locked"));
    }
    store.writer("busy", 0, "").close(); // released
    assertThrows(InvalidArgumentException.class, () -> store.writer("", 0, ""));
    assertThrows(InvalidArgumentException.class, () -> store.writer("x", 0, "sha256:abc"));
    assertThrows(InvalidArgumentException.class, () -> store.info("sha256:../../etc/passwd"));
    assertThrows(NotFoundException.class, () -> store.open(Digests.of(new byte[] {1})));
  }

  @Test
  void walkListsBlobsAndDeleteRemovesThem() throws IOException {
    List<String> digests = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      try (ContentWriter writer = store.writer("w" + i, 0, "")) {
        writer.write(ByteBuffer.wrap(bytes(10, i)));
        digests.add(writer.commit(0, ""));
      }
    }
    List<String> walked = new ArrayList<>();
    store.walk(info -> walked.add(info.digest()));
    assertEquals(digests.stream().sorted().toList(), walked.stream().sorted().toList());
    assertTrue(store.delete(digests.get(0)));
    assertFalse(store.delete(digests.get(0)));
    assertTrue(store.info(digests.get(0)).isEmpty());
  }
}
