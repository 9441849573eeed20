package dev.jctr.api.content;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes one blob, appending: an ingest that survives {@link #close} (and a daemon restart) so
 * that a later writer on the same ref resumes at {@link #offset}. Holds the ref's lock until
 * committed or closed.
 */
public interface ContentWriter extends AutoCloseable {

  /** Bytes written so far. */
  long offset();

  /** The digest of the bytes written so far. */
  String digest();

  IngestStatus status();

  /** Appends {@code data} at the current offset. */
  void write(ByteBuffer data) throws IOException;

  /** Starts over: the only truncation an ingest supports is to zero. */
  void truncate() throws IOException;

  /** Sets the expected total and digest when the writer learns them after opening. */
  void expect(long total, String expected);

  /**
   * Makes the written bytes the blob they hash to, atomically, and returns its digest.
   *
   * @param size the size the caller expects, or 0 to accept any
   * @param expected the digest the caller expects, or "" to accept any
   * @throws dev.jctr.api.errors.FailedPreconditionException when size or digest differ (the
   *     ingest is left as it was, no blob is made)
   * @throws dev.jctr.api.errors.AlreadyExistsException when the blob exists already (the
   *     ingest is removed)
   */
  String commit(long size, String expected) throws IOException;

  /** Releases the ref's lock and keeps the ingest for a later resume. */
  @Override
  void close();
}
