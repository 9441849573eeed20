package dev.jctr.metadata.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;
import org.lmdbjava.ByteArrayProxy;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.CursorIterable.KeyVal;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.KeyRange;
import org.lmdbjava.Txn;

/**
 * The metadata database: one LMDB environment (a single file, copy-on-write B+tree, one writer,
 * MVCC readers, fsync on commit: the same design family as containerd's bbolt), one key space
 * laid out by {@link Keys}.
 *
 * <p>LMDB's writer lock belongs to the OS thread that began the transaction, so every write runs
 * on one platform thread of this class's own; readers run on the caller's thread
 * ({@code MDB_NOTLS} lets a read transaction live on any thread, virtual ones included).
 *
 * <p>Writes that queue up while one commits are committed together (group commit): each runs
 * in a nested transaction of one outer transaction, so that one that fails leaves the others
 * intact, and one fsync makes them all durable. Under a kubelet's burst of pod starts this
 * turns a disk flush per write into one per batch.
 */
public final class MetadataDb implements Closeable {

  /** Version of the key layout and value encoding; {@link #migrate} upgrades older ones. */
  static final int SCHEMA_VERSION = 1;
  private static final long MAP_SIZE = 16L << 30; // virtual address space only; the file grows

  private final Env<byte[]> env;
  private final Dbi<byte[]> dbi;
  /** The most writes committed together. */
  private static final int MAX_BATCH = 64;

  private final BlockingQueue<Write<?>> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  private volatile boolean closed;
  private volatile long commits;
  private volatile Runnable onGarbage = () -> {};

  /** One caller's write: its work, and its outcome once the batch holding it committed. */
  private static final class Write<T> {
    final Function<Tx, T> work;
    final CompletableFuture<T> done = new CompletableFuture<>();
    T result;
    RuntimeException failure;
    boolean garbage;

    Write(Function<Tx, T> work) {
      this.work = work;
    }

    void run(Txn<byte[]> txn, MetadataDb db) {
      Tx tx = db.new Tx(txn);
      result = work.apply(tx);
      garbage = tx.garbage;
    }

    void complete() {
      if (failure != null) {
        done.completeExceptionally(failure);
      } else {
        done.complete(result);
      }
    }
  }

  private MetadataDb(Env<byte[]> env, Dbi<byte[]> dbi) {
    this.env = env;
    this.dbi = dbi;
    this.writer = Thread.ofPlatform().name("jctr-metadata-writer").daemon()
        .start(this::writeLoop);
  }

  /** Opens (creating when absent) the database in {@code dir}. */
  public static MetadataDb open(Path dir) throws IOException {
    Files.createDirectories(dir);
    Env<byte[]> env = openEnv(dir);
    Dbi<byte[]> dbi = env.openDbi("metadata", DbiFlags.MDB_CREATE);
    MetadataDb db = new MetadataDb(env, dbi);
    db.write(txn -> {
      db.migrate(txn);
      return null;
    });
    return db;
  }

  private static Env<byte[]> openEnv(Path dir) {
    // lmdbjava extracts its native library through the thread's context class loader; in OSGi
    // that loader is not the bundle holding the library, so lend it lmdbjava's own.
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(Env.class.getClassLoader());
    try {
      return Env.create(ByteArrayProxy.PROXY_BA)
          .setMapSize(MAP_SIZE)
          .setMaxDbs(1)
          .setMaxReaders(512)
          .open(dir.toFile(), EnvFlags.MDB_NOTLS);
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  /** Runs {@code work} in one read transaction: a consistent snapshot. */
  public <T> T read(Function<Tx, T> work) {
    try (Txn<byte[]> txn = env.txnRead()) {
      return work.apply(new Tx(txn));
    }
  }

  /**
   * Runs {@code work} in one write transaction and commits it durably before returning; if
   * {@code work} throws, nothing it wrote is kept.
   */
  public <T> T write(Function<Tx, T> work) {
    if (closed) {
      throw new IllegalStateException("the metadata database is closed");
    }
    Write<T> write = new Write<>(work);
    queue.add(write);
    try {
      return write.done.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for the metadata writer", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /** The writer thread: takes what has queued up and commits it as one batch. */
  private void writeLoop() {
    List<Write<?>> batch = new ArrayList<>();
    while (true) {
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        break; // closing
      }
      queue.drainTo(batch, MAX_BATCH - 1);
      commit(batch);
      batch.clear();
    }
    List<Write<?>> left = new ArrayList<>();
    queue.drainTo(left);
    left.forEach(write -> write.done.completeExceptionally(
        new IllegalStateException("the metadata database closed before this write")));
  }

  private void commit(List<Write<?>> batch) {
    try (Txn<byte[]> outer = env.txnWrite()) {
      if (batch.size() == 1) {
        batch.get(0).run(outer, this); // on failure the outer transaction is aborted
      } else {
        for (Write<?> write : batch) {
          try (Txn<byte[]> nested = env.txn(outer)) {
            write.run(nested, this);
            nested.commit();
          } catch (RuntimeException e) {
            write.failure = e; // its nested transaction is aborted, the others stay
          }
        }
      }
      outer.commit();
      commits++;
    } catch (RuntimeException e) {
      for (Write<?> write : batch) {
        if (write.failure == null) {
          write.failure = e; // the batch did not commit: none of it is kept
        }
      }
    }
    boolean garbage = false;
    for (Write<?> write : batch) {
      garbage |= write.failure == null && write.garbage;
      write.complete();
    }
    if (garbage) {
      onGarbage.run();
    }
  }

  /** How many transactions the writer has committed (each a disk flush). */
  long commits() {
    return commits;
  }

  /**
   * Runs {@code listener} after each committed write that may have left something unreferenced
   * (a deletion, a retarget): the collector's trigger.
   */
  public void onGarbage(Runnable listener) {
    this.onGarbage = listener;
  }

  /** The migration hook: brings an older layout up to {@link #SCHEMA_VERSION}. */
  private void migrate(Tx tx) {
    int found = tx.get(Keys.SCHEMA)
        .map(v -> Integer.parseInt(new String(v, StandardCharsets.UTF_8)))
        .orElse(0);
    if (found > SCHEMA_VERSION) {
      throw new IllegalStateException("metadata schema " + found + " is newer than this jctrd ("
          + SCHEMA_VERSION + "); upgrade jctrd or restore an older database");
    }
    // Version 0 is a new database; later versions add steps here, one per version.
    tx.put(Keys.SCHEMA, Integer.toString(SCHEMA_VERSION).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    closed = true;
    writer.interrupt();
    try {
      writer.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    env.close();
  }

  /** One transaction's view of the key space. */
  public final class Tx {
    private final Txn<byte[]> txn;
    private boolean garbage;

    private Tx(Txn<byte[]> txn) {
      this.txn = txn;
    }

    /** Notes that this write may leave something for the collector. */
    public void leftGarbage() {
      garbage = true;
    }

    public java.util.Optional<byte[]> get(byte[] key) {
      return java.util.Optional.ofNullable(dbi.get(txn, key));
    }

    public void put(byte[] key, byte[] value) {
      dbi.put(txn, key, value);
    }

    public boolean delete(byte[] key) {
      return dbi.delete(txn, key);
    }

    /** Every entry whose key starts with {@code prefix}, in key order. */
    public List<Entry> scan(byte[] prefix) {
      List<Entry> entries = new ArrayList<>();
      try (CursorIterable<byte[]> cursor = dbi.iterate(txn, KeyRange.atLeast(prefix))) {
        for (KeyVal<byte[]> kv : cursor) {
          if (!startsWith(kv.key(), prefix)) {
            break;
          }
          entries.add(new Entry(kv.key(), kv.val()));
        }
      }
      return entries;
    }

    /** Whether any key starts with {@code prefix}. */
    public boolean any(byte[] prefix) {
      try (CursorIterable<byte[]> cursor = dbi.iterate(txn, KeyRange.atLeast(prefix))) {
        var it = cursor.iterator();
        return it.hasNext() && startsWith(it.next().key(), prefix);
      }
    }

    public void deletePrefix(byte[] prefix) {
      for (Entry entry : scan(prefix)) {
        dbi.delete(txn, entry.key());
      }
    }
  }

  /** A key and its value, copied out of the transaction. */
  public record Entry(byte[] key, byte[] value) {}

  private static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length
        && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }
}
