package dev.jctr.metadata.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
 */
public final class MetadataDb implements Closeable {

  /** Version of the key layout and value encoding; {@link #migrate} upgrades older ones. */
  static final int SCHEMA_VERSION = 1;
  private static final long MAP_SIZE = 16L << 30; // virtual address space only; the file grows

  private final Env<byte[]> env;
  private final Dbi<byte[]> dbi;
  private final ExecutorService writer;
  private volatile Runnable onGarbage = () -> {};

  private MetadataDb(Env<byte[]> env, Dbi<byte[]> dbi) {
    this.env = env;
    this.dbi = dbi;
    this.writer = Executors.newSingleThreadExecutor(
        Thread.ofPlatform().name("jctr-metadata-writer").daemon().factory());
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
    try {
      return writer.submit(() -> {
        Tx tx;
        T result;
        try (Txn<byte[]> txn = env.txnWrite()) {
          tx = new Tx(txn);
          result = work.apply(tx);
          txn.commit();
        }
        if (tx.garbage) {
          onGarbage.run();
        }
        return result;
      }).get();
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
    writer.shutdown();
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
