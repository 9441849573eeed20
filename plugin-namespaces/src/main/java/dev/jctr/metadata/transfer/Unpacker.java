package dev.jctr.metadata.transfer;

import com.google.gson.JsonObject;
import dev.jctr.api.content.ContentStore;
import dev.jctr.api.content.Digests;
import dev.jctr.api.diff.LayerApplier;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.proto.containerd.services.content.v1.Info;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.metadata.store.ContentMetadata;
import dev.jctr.metadata.store.SnapshotStore;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Unpacks an image's layers into snapshots named by chain ID
 * ({@code chainID(n) = sha256(chainID(n-1) + " " + diffID(n))}), skipping those already there,
 * verifying each layer's diffID, and labels the config with
 * {@code containerd.io/gc.ref.snapshot.<snapshotter>} = the top chain ID, as containerd does.
 */
public final class Unpacker {

  private static final Logger LOG = System.getLogger(Unpacker.class.getName());

  /** Where an unpack is: one call per change worth showing. */
  public interface Progress {
    void update(String ref, String status, long offset, long total);
  }

  /** Waits until layer {@code index} is in the content store. */
  public interface LayerReady {
    void await(int index) throws IOException;
  }

  private final ContentStore store;
  private final ContentMetadata content;
  private final SnapshotStore snapshots;
  private final LayerApplier applier;

  public Unpacker(ContentStore store, ContentMetadata content, SnapshotStore snapshots,
      LayerApplier applier) {
    this.store = store;
    this.content = content;
    this.snapshots = snapshots;
    this.applier = applier;
  }

  /** Unpacks the image whose manifest (not an index) is {@code manifestDigest}, all in store. */
  public String unpack(String namespace, String lease, String snapshotter, Snapshotter backend,
      String manifestDigest, Progress progress) throws IOException {
    JsonObject manifest = ImageJson.parse(read(manifestDigest), "manifest " + manifestDigest);
    List<JsonObject> layers = ImageJson.layers(manifest, manifestDigest);
    String configDigest = ImageJson.digest(ImageJson.config(manifest, manifestDigest));
    List<String> diffIds = ImageJson.diffIds(ImageJson.parse(read(configDigest),
        "config " + configDigest), configDigest);
    return unpack(namespace, lease, snapshotter, backend, configDigest, layers, diffIds,
        i -> { }, progress);
  }

  /** Unpacks {@code layers} in order, each once {@code ready}; returns the top chain ID. */
  public String unpack(String namespace, String lease, String snapshotter, Snapshotter backend,
      String configDigest, List<JsonObject> layers, List<String> diffIds, LayerReady ready,
      Progress progress) throws IOException {
    if (diffIds.size() != layers.size()) {
      throw new InvalidArgumentException("config " + configDigest + " names " + diffIds.size()
          + " layers, the manifest " + layers.size());
    }
    String parent = "";
    for (int i = 0; i < layers.size(); i++) {
      ready.await(i);
      String chain = i == 0 ? diffIds.get(0)
          : Digests.of((parent + " " + diffIds.get(i)).getBytes(StandardCharsets.UTF_8));
      String digest = ImageJson.digest(layers.get(i));
      if (snapshots.leaseIfPresent(namespace, snapshotter, chain, lease)) {
        progress.update(digest, "unpacked", 0, 0);
        parent = chain;
        continue;
      }
      progress.update(digest, "unpacking", 0, 0);
      long started = System.nanoTime();
      String key = "extract-" + System.nanoTime() + "-" + chain;
      List<Mount> mounts = snapshots.create(namespace, snapshotter, backend, false, key, parent,
          Map.of("containerd.io/snapshot.ref", chain), lease);
      long prepared = System.nanoTime();
      long appliedAt;
      try {
        LayerApplier.Applied applied;
        try (InputStream in = Channels.newInputStream(store.open(digest))) {
          applied = applier.apply(in, ImageJson.text(layers.get(i), "mediaType"), mounts);
        }
        appliedAt = System.nanoTime();
        if (!applied.diffId().equals(diffIds.get(i))) {
          throw new FailedPreconditionException("layer " + digest + " unpacks to "
              + applied.diffId() + " but the image config says " + diffIds.get(i));
        }
        snapshots.commit(namespace, snapshotter, backend, chain, key, Map.of(), lease);
      } catch (IOException | RuntimeException e) {
        try {
          backend.remove(snapshots.remove(namespace, snapshotter, key));
        } catch (RuntimeException cleanup) {
          e.addSuppressed(cleanup);
        }
        throw e;
      }
      long committed = System.nanoTime();
      LOG.log(Level.DEBUG, () -> String.format("unpack %s: prepare %.1f ms, apply %.1f ms,"
          + " commit %.1f ms", digest, (prepared - started) / 1e6, (appliedAt - prepared) / 1e6,
          (committed - appliedAt) / 1e6));
      progress.update(digest, "unpacked", 0, 0);
      parent = chain;
    }
    if (!parent.isEmpty()) {
      content.update(namespace, Info.newBuilder().setDigest(configDigest)
          .putLabels("containerd.io/gc.ref.snapshot." + snapshotter, parent).build(),
          List.of("labels.containerd.io/gc.ref.snapshot." + snapshotter));
    }
    return parent;
  }

  private byte[] read(String digest) throws IOException {
    if (store.info(digest).map(b -> b.size() > ImageJson.MAX_MANIFEST).orElse(false)) {
      throw new InvalidArgumentException(digest + " is larger than "
          + ImageJson.MAX_MANIFEST + " bytes: not a manifest or config");
    }
    try (InputStream in = Channels.newInputStream(store.open(digest))) {
      return in.readAllBytes();
    }
  }

}
