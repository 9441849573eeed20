package dev.jctr.api.content;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Blobs by digest, and the ingests that become them. A blob appears only complete and verified
 * (its bytes hash to its digest), by an atomic rename. Refs name ingests; one writer per ref at
 * a time.
 */
public interface ContentStore {

  Optional<BlobInfo> info(String digest);

  /**
   * Opens (or resumes) the ingest {@code ref}.
   *
   * @param total the expected size, or 0 when unknown
   * @param expected the expected digest, or "" when unknown
   * @throws dev.jctr.api.errors.UnavailableException while another writer holds {@code ref}
   * @throws dev.jctr.api.errors.AlreadyExistsException when {@code expected} is a blob already
   */
  ContentWriter writer(String ref, long total, String expected) throws IOException;

  /**
   * Reads a blob.
   *
   * @throws dev.jctr.api.errors.NotFoundException when there is no such blob
   */
  SeekableByteChannel open(String digest) throws IOException;

  /** Deletes a blob; false when there was none. */
  boolean delete(String digest) throws IOException;

  void walk(Consumer<BlobInfo> visitor) throws IOException;

  Optional<IngestStatus> status(String ref) throws IOException;

  List<IngestStatus> statuses() throws IOException;

  /**
   * Removes the ingest {@code ref}.
   *
   * @throws dev.jctr.api.errors.NotFoundException when there is none
   */
  void abort(String ref) throws IOException;
}
