package dev.jctr.content.local;

import dev.jctr.api.content.BlobInfo;
import dev.jctr.api.content.ContentStore;
import dev.jctr.api.content.ContentWriter;
import dev.jctr.api.content.Digests;
import dev.jctr.api.content.IngestStatus;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.errors.UnavailableException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Blobs under {@code blobs/sha256/<hex>}, ingests under {@code ingest/<sha256 of ref>/} with
 * {@code ref}, {@code data}, {@code startedat}, and {@code total} and {@code expected} when
 * known. A blob is made by renaming a verified, synced {@code data} into place, so a blob file
 * is always complete; a crash leaves at worst an ingest, which a writer on the same ref resumes.
 */
public class LocalContentStore implements ContentStore {

  private final Path blobs;
  private final Path ingests;
  private final Map<String, Instant> locks = new ConcurrentHashMap<>();

  public LocalContentStore(Path root) throws IOException {
    this.blobs = Files.createDirectories(root.resolve("blobs").resolve("sha256"));
    this.ingests = Files.createDirectories(root.resolve("ingest"));
  }

  Path blobPath(String digest) {
    return blobs.resolve(Digests.hex(digest));
  }

  Path ingestDir(String ref) {
    return ingests.resolve(HexFormat.of().formatHex(
        Digests.sha256().digest(ref.getBytes(StandardCharsets.UTF_8))));
  }

  @Override
  public Optional<BlobInfo> info(String digest) {
    Path blob = blobPath(digest);
    try {
      BasicFileAttributes attributes = Files.readAttributes(blob, BasicFileAttributes.class);
      return Optional.of(new BlobInfo(digest, attributes.size(),
          attributes.lastModifiedTime().toInstant()));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public ContentWriter writer(String ref, long total, String expected) throws IOException {
    if (ref == null || ref.isEmpty()) {
      throw new InvalidArgumentException("ingest ref must not be empty");
    }
    if (!expected.isEmpty()) {
      Digests.validate(expected);
    }
    Instant now = Instant.now();
    Instant holder = locks.putIfAbsent(ref, now);
    if (holder != null) {
      throw new UnavailableException("ref \"" + ref + "\" locked by another writer since "
          + holder + "; retry when it finishes");
    }
    try {
      if (!expected.isEmpty() && Files.exists(blobPath(expected))) {
        throw new AlreadyExistsException("blob " + expected);
      }
      return LocalWriter.open(this, ref, ingestDir(ref), total, expected);
    } catch (IOException | RuntimeException e) {
      locks.remove(ref);
      throw e;
    }
  }

  void unlock(String ref) {
    locks.remove(ref);
  }

  @Override
  public SeekableByteChannel open(String digest) throws IOException {
    try {
      return FileChannel.open(blobPath(digest), StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new NotFoundException("blob " + digest);
    }
  }

  @Override
  public boolean delete(String digest) throws IOException {
    return Files.deleteIfExists(blobPath(digest));
  }

  @Override
  public void walk(Consumer<BlobInfo> visitor) throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(blobs)) {
      for (Path file : files) {
        String digest = "sha256:" + file.getFileName();
        try {
          Digests.validate(digest);
        } catch (InvalidArgumentException e) {
          continue; // not a blob of ours
        }
        info(digest).ifPresent(visitor);
      }
    }
  }

  @Override
  public Optional<IngestStatus> status(String ref) throws IOException {
    return LocalWriter.readStatus(ingestDir(ref));
  }

  @Override
  public List<IngestStatus> statuses() throws IOException {
    List<IngestStatus> statuses = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(ingests)) {
      for (Path dir : dirs) {
        LocalWriter.readStatus(dir).ifPresent(statuses::add);
      }
    }
    statuses.sort(Comparator.comparing(IngestStatus::ref));
    return statuses;
  }

  @Override
  public void abort(String ref) throws IOException {
    if (locks.containsKey(ref)) {
      throw new UnavailableException("ref \"" + ref + "\" is being written; abort it later");
    }
    Path dir = ingestDir(ref);
    if (!Files.isDirectory(dir)) {
      throw new NotFoundException("ingest \"" + ref + "\"");
    }
    deleteTree(dir);
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
