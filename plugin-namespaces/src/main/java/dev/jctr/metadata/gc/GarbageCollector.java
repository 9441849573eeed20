package dev.jctr.metadata.gc;

import dev.jctr.api.content.ContentStore;
import dev.jctr.api.events.EventPublisher;
import dev.jctr.api.events.Topics;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.events.SnapshotRemove;
import dev.jctr.api.snapshots.SnapshotInfo;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.metadata.plugin.MetadataPlugin;
import dev.jctr.metadata.plugin.Snapshotters;
import dev.jctr.metadata.store.MetadataCollector;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * containerd's {@code io.containerd.gc.v1.scheduler}: collects garbage shortly after writes
 * that may leave some (deletions, retargets; many of them coalesce into one run), at start-up,
 * and on demand. A run deletes the records no root reaches, then what the backends hold that no
 * record points at: snapshots (children first) and blobs no namespace holds. Runs are one at a
 * time, on one thread of their own.
 */
@Component(service = GarbageCollector.class, name = "io.containerd.gc.v1.scheduler")
@Plugin(type = PluginTypes.GC, id = "scheduler",
    requires = {PluginTypes.METADATA, PluginTypes.CONTENT})
public final class GarbageCollector {

  private static final Logger LOG = System.getLogger(GarbageCollector.class.getName());
  /** Between a trigger and its run: deletions in a burst are collected together. */
  static final Duration DELAY = Duration.ofMillis(100);
  /** After a failed run, the next one waits this much longer. */
  static final Duration RETRY = Duration.ofSeconds(1);
  /**
   * The share of time scheduled runs may take, as containerd's {@code pause_threshold}: after a
   * run of d, the next waits until d / 0.02 has passed since it began, so a burst of deletions
   * (a kubelet starting or removing pods) is not walked again and again.
   */
  static final double PAUSE_THRESHOLD = 0.02;
  /** The longest such pause: garbage left by a slow run still goes within seconds. */
  static final Duration MAX_PAUSE = Duration.ofSeconds(2);

  private final MetadataPlugin metadata;
  private final ContentStore store;
  private final Snapshotters snapshotters;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
      Thread.ofPlatform().name("jctr-gc").daemon().factory());
  /** The run asked for and not started yet, if any. */
  private ScheduledFuture<?> pending;
  /** When the last run began and how long it took (nanoTime), for the pause threshold. */
  private long lastStarted;
  private long lastTook;

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private volatile EventPublisher publisher;

  /** What one run removed and how long it took. */
  public record Report(int leasesExpired, int contentRecords, int snapshotRecords,
      int blobsDeleted, int backendSnapshotsDeleted, Duration took) {}

  @Activate
  public GarbageCollector(@Reference MetadataPlugin metadata, @Reference ContentStore store,
      @Reference Snapshotters snapshotters) {
    this.metadata = metadata;
    this.store = store;
    this.snapshotters = snapshotters;
    metadata.onGarbage(this::schedule);
    schedule(); // whatever a previous run of the daemon left
  }

  @Deactivate
  void deactivate() {
    metadata.onGarbage(() -> {});
    thread.shutdownNow();
  }

  /** Asks for a run soon, unless one is already waiting. */
  public void schedule() {
    schedule(DELAY);
  }

  private synchronized void schedule(Duration delay) {
    if (pending == null) {
      pending = thread.schedule(this::scheduledRun,
          delayMillis(delay, lastStarted, lastTook, System.nanoTime()), TimeUnit.MILLISECONDS);
    }
  }

  /** The wait before a run asked for with {@code delay}, given the last run (nanoTime). */
  static long delayMillis(Duration delay, long lastStarted, long lastTook, long now) {
    long paused = lastStarted + (long) (lastTook / PAUSE_THRESHOLD) - now;
    return Math.max(delay.toMillis(),
        Math.min(MAX_PAUSE.toMillis(), TimeUnit.NANOSECONDS.toMillis(paused)));
  }

  /** A run starting now covers whatever asked for one before: that one need not run. */
  private synchronized void startingRun() {
    if (pending != null) {
      pending.cancel(false);
      pending = null;
    }
  }

  private void scheduledRun() {
    synchronized (this) {
      pending = null;
    }
    try {
      Report report = collect();
      LOG.log(Level.DEBUG, "garbage collected: {0}", report);
    } catch (RuntimeException | IOException e) {
      LOG.log(Level.WARNING, "garbage collection failed; retrying: " + e.getMessage(), e);
      schedule(DELAY.plus(RETRY));
    }
  }

  /** Runs a collection now (after any under way) and waits for it. */
  public Report collectNow() throws IOException {
    try {
      return thread.submit(() -> {
        startingRun();
        return collect();
      }).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for garbage collection", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(e.getCause());
    }
  }

  private Report collect() throws IOException {
    long started = System.nanoTime();
    try {
      return sweep(started);
    } finally {
      synchronized (this) {
        lastStarted = started;
        lastTook = System.nanoTime() - started;
      }
    }
  }

  private Report sweep(long started) throws IOException {
    Instant now = Instant.now();
    MetadataCollector.Sweep sweep = metadata.collector().sweep(now);
    EventPublisher events = publisher;
    if (events != null) {
      for (var removed : sweep.snapshots()) {
        events.publish(removed.namespace(), Topics.SNAPSHOT_REMOVE, SnapshotRemove.newBuilder()
            .setKey(removed.key()).setSnapshotter(removed.snapshotter()).build());
      }
    }
    int backend = 0;
    for (Map.Entry<String, Snapshotter> entry : snapshotters.all().entrySet()) {
      backend += removeOrphans(entry.getKey(), entry.getValue());
    }
    List<String> blobs = metadata.content().sweepBlobs(store, now);
    Report report = new Report(sweep.leases(), sweep.content().size(), sweep.snapshots().size(),
        blobs.size(), backend, Duration.ofNanos(System.nanoTime() - started));
    if (report.blobsDeleted() + report.backendSnapshotsDeleted() + report.leasesExpired() > 0) {
      LOG.log(Level.INFO, "garbage collection removed {0} blobs, {1} snapshots, {2} expired"
          + " leases in {3} ms", report.blobsDeleted(), report.backendSnapshotsDeleted(),
          report.leasesExpired(), report.took().toMillis());
    }
    return report;
  }

  /** Removes what {@code backend} holds that no record points at; returns how many went. */
  private int removeOrphans(String name, Snapshotter backend) {
    List<SnapshotInfo> orphans;
    try {
      orphans = metadata.snapshots().orphans(name, backend);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "snapshotter " + name + " could not be walked for garbage: "
          + e.getMessage());
      return 0;
    }
    int removed = 0;
    for (SnapshotInfo orphan : orphans) {
      try {
        backend.remove(orphan.name());
        removed++;
      } catch (RuntimeException e) {
        // in use (mounted) or its parent's child failed to go: the next run tries again
        LOG.log(Level.WARNING, "snapshot " + orphan.name() + " stays in " + name + ": "
            + e.getMessage());
      }
    }
    if (removed > 0) {
      try {
        backend.cleanup();
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "snapshotter " + name + " cleanup: " + e.getMessage());
      }
    }
    return removed;
  }
}
