package dev.jctr.metadata.transfer;

import dev.jctr.api.content.ContentStore;
import dev.jctr.api.content.ContentWriter;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.metadata.store.ContentMetadata;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Stores blobs for a transfer: streamed into a content writer, verified on commit, recorded in
 * the namespace and added to the transfer's lease with no collection in between.
 */
public final class Blobs {

  private final ContentStore store;
  private final ContentMetadata content;

  public Blobs(ContentStore store, ContentMetadata content) {
    this.store = store;
    this.content = content;
  }

  /**
   * Stores {@code size} bytes from {@code in} as a blob of the namespace.
   *
   * @param expected the digest the bytes must have, or "" to take theirs
   * @return the blob's digest; when {@code expected} is held already, {@code in} is not read
   */
  public String store(String namespace, String lease, String ref, InputStream in, long size,
      String expected, Map<String, String> labels) throws IOException {
    if (!expected.isEmpty()) {
      if (content.leaseIfPresent(namespace, expected, lease)) {
        return expected;
      }
      if (store.info(expected).isPresent()) {
        try {
          share(namespace, expected, size, labels, lease);
          return expected;
        } catch (NotFoundException collected) {
          // no namespace held it and a collection took it meanwhile: its bytes are at hand
        }
      }
    }
    String digest = expected;
    try (ContentWriter writer = store.writer(namespace + "/" + ref, size, expected)) {
      writer.truncate();
      byte[] buffer = new byte[1 << 20];
      long left = size;
      while (left > 0) {
        int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
        if (n < 0) {
          throw new dev.jctr.api.errors.InvalidArgumentException(ref + " ends after "
              + (size - left) + " of its " + size + " bytes");
        }
        writer.write(ByteBuffer.wrap(buffer, 0, n));
        left -= n;
      }
      digest = writer.digest();
      commit(writer, size, expected, namespace, labels, lease);
      return digest;
    } catch (AlreadyExistsException e) {
      // stored meanwhile by someone else: shared below
    } catch (IOException | RuntimeException e) {
      abandon(namespace + "/" + ref, e);
      throw e;
    }
    share(namespace, digest, size, labels, lease);
    return digest;
  }

  /**
   * Commits {@code writer} ({@code expected} "" takes its digest) and records the blob in the
   * namespace and the lease, with no collection in between.
   */
  public void commit(ContentWriter writer, long size, String expected, String namespace,
      Map<String, String> labels, String lease) throws IOException {
    content.commitLock().lock();
    try {
      String digest = writer.digest();
      writer.commit(size, expected);
      content.add(namespace, digest, size, labels, lease);
    } finally {
      content.commitLock().unlock();
    }
  }

  /** A transfer that failed leaves no ingest behind: it will not be resumed. */
  private void abandon(String ref, Exception cause) {
    try {
      if (store.status(ref).isPresent()) {
        store.abort(ref);
      }
    } catch (IOException | RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  /** Records a blob the store has already (another namespace's, or another transfer's). */
  public void share(String namespace, String digest, long size, Map<String, String> labels,
      String lease) {
    content.commitLock().lock();
    try {
      if (store.info(digest).isEmpty()) {
        throw new NotFoundException("blob " + digest + " went while being shared; try again");
      }
      content.add(namespace, digest, size, labels, lease);
    } finally {
      content.commitLock().unlock();
    }
  }
}
