package dev.jctr.content.local;

import dev.jctr.api.content.ContentWriter;
import dev.jctr.api.content.Digests;
import dev.jctr.api.content.IngestStatus;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Optional;

/** One ingest being written; see {@link LocalContentStore} for the layout. */
final class LocalWriter implements ContentWriter {

  private final LocalContentStore store;
  private final String ref;
  private final Path dir;
  private final FileChannel data;
  private final Instant startedAt;
  private MessageDigest digest;
  private long offset;
  private long total;
  private String expected;
  private boolean closed;

  private LocalWriter(LocalContentStore store, String ref, Path dir, FileChannel data,
      Instant startedAt, MessageDigest digest, long offset, long total, String expected) {
    this.store = store;
    this.ref = ref;
    this.dir = dir;
    this.data = data;
    this.startedAt = startedAt;
    this.digest = digest;
    this.offset = offset;
    this.total = total;
    this.expected = expected;
  }

  /** Opens a new ingest or resumes an existing one, rehashing what it holds. */
  static LocalWriter open(LocalContentStore store, String ref, Path dir, long total,
      String expected) throws IOException {
    Optional<IngestStatus> existing = readStatus(dir);
    if (existing.isPresent() && (total > 0 && existing.get().total() > 0
        && existing.get().total() != total)) {
      LocalContentStore.deleteTree(dir); // another blob under the same ref: start over
      existing = Optional.empty();
    }
    Instant startedAt;
    if (existing.isEmpty()) {
      LocalContentStore.deleteTree(dir);
      Files.createDirectories(dir);
      startedAt = Instant.now();
      writeSmall(dir, "ref", ref);
      writeSmall(dir, "startedat", startedAt.toString());
    } else {
      startedAt = existing.get().startedAt();
      if (total == 0) {
        total = existing.get().total();
      }
      if (expected.isEmpty()) {
        expected = existing.get().expected();
      }
    }
    if (total > 0) {
      writeSmall(dir, "total", Long.toString(total));
    }
    if (!expected.isEmpty()) {
      writeSmall(dir, "expected", expected);
    }
    FileChannel data = FileChannel.open(dir.resolve("data"), StandardOpenOption.CREATE,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
    MessageDigest digest = Digests.sha256();
    ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
    long offset = 0;
    while (data.read(buffer, offset) > 0) {
      buffer.flip();
      offset += buffer.remaining();
      digest.update(buffer);
      buffer.clear();
    }
    data.position(offset);
    return new LocalWriter(store, ref, dir, data, startedAt, digest, offset, total, expected);
  }

  /** The status of the ingest in {@code dir}, if it is a complete ingest directory. */
  static Optional<IngestStatus> readStatus(Path dir) throws IOException {
    try {
      String ref = Files.readString(dir.resolve("ref"));
      Instant startedAt = Instant.parse(Files.readString(dir.resolve("startedat")).strip());
      Path data = dir.resolve("data");
      long offset = Files.exists(data) ? Files.size(data) : 0;
      Instant updatedAt = Files.exists(data)
          ? Files.getLastModifiedTime(data).toInstant() : startedAt;
      long total = Files.exists(dir.resolve("total"))
          ? Long.parseLong(Files.readString(dir.resolve("total")).strip()) : 0;
      String expected = Files.exists(dir.resolve("expected"))
          ? Files.readString(dir.resolve("expected")).strip() : "";
      return Optional.of(new IngestStatus(ref, offset, total, expected, startedAt, updatedAt));
    } catch (NoSuchFileException | java.time.format.DateTimeParseException
        | NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static void writeSmall(Path dir, String name, String value) throws IOException {
    Path partial = dir.resolve(name + ".partial");
    Files.writeString(partial, value, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.SYNC);
    Files.move(partial, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public long offset() {
    return offset;
  }

  @Override
  public String digest() {
    try {
      return Digests.of((MessageDigest) digest.clone());
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public IngestStatus status() {
    return new IngestStatus(ref, offset, total, expected, startedAt, Instant.now());
  }

  @Override
  public void write(ByteBuffer buffer) throws IOException {
    ByteBuffer hashed = buffer.duplicate();
    while (buffer.hasRemaining()) {
      offset += data.write(buffer);
    }
    digest.update(hashed);
  }

  @Override
  public void truncate() throws IOException {
    data.truncate(0);
    data.position(0);
    offset = 0;
    digest = Digests.sha256();
  }

  @Override
  public void expect(long newTotal, String newExpected) {
    try {
      if (newTotal > 0 && newTotal != total) {
        total = newTotal;
        writeSmall(dir, "total", Long.toString(total));
      }
      if (!newExpected.isEmpty() && !newExpected.equals(expected)) {
        expected = Digests.validate(newExpected);
        writeSmall(dir, "expected", expected);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String commit(long size, String wanted) throws IOException {
    data.force(true);
    if (size > 0 && size != offset) {
      throw new FailedPreconditionException("ingest \"" + ref + "\": unexpected commit size "
          + size + ", " + offset + " bytes written");
    }
    if (size == 0 && total > 0 && total != offset) {
      throw new FailedPreconditionException("ingest \"" + ref + "\": " + offset
          + " bytes written of the " + total + " expected");
    }
    String actual = digest();
    String expectedDigest = wanted.isEmpty() ? expected : wanted;
    if (!expectedDigest.isEmpty() && !expectedDigest.equals(actual)) {
      throw new FailedPreconditionException("ingest \"" + ref + "\": unexpected commit digest "
          + actual + ", expected " + expectedDigest);
    }
    Path blob = store.blobPath(actual);
    data.close();
    closed = true;
    try {
      if (Files.exists(blob)) {
        LocalContentStore.deleteTree(dir);
        throw new AlreadyExistsException("blob " + actual);
      }
      Path written = dir.resolve("data");
      Files.setPosixFilePermissions(written, PosixFilePermissions.fromString("r--r--r--"));
      Files.move(written, blob, StandardCopyOption.ATOMIC_MOVE);
      try (FileChannel blobDir = FileChannel.open(blob.getParent(), StandardOpenOption.READ)) {
        blobDir.force(true);
      }
      LocalContentStore.deleteTree(dir);
      return actual;
    } finally {
      store.unlock(ref);
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      try {
        data.close();
      } catch (IOException e) {
        // the ingest stays as far as it was written
      }
      store.unlock(ref);
    }
  }
}
