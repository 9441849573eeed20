package dev.jctr.metadata.pull;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import static dev.jctr.metadata.transfer.ImageJson.diffIds;
import static dev.jctr.metadata.transfer.ImageJson.mediaType;
import static dev.jctr.metadata.transfer.ImageJson.object;
import static dev.jctr.metadata.transfer.ImageJson.parse;
import static dev.jctr.metadata.transfer.ImageJson.text;

import dev.jctr.api.content.ContentStore;
import dev.jctr.api.content.ContentWriter;
import dev.jctr.api.content.Digests;
import dev.jctr.api.diff.LayerApplier;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.types.Descriptor;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.metadata.store.ContentMetadata;
import dev.jctr.metadata.store.ImageStore;
import dev.jctr.metadata.store.LeaseStore;
import dev.jctr.metadata.store.SnapshotStore;
import dev.jctr.metadata.transfer.Blobs;
import dev.jctr.metadata.transfer.ImageJson;
import dev.jctr.metadata.transfer.TransferLease;
import dev.jctr.metadata.transfer.Unpacker;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * A pull run by the daemon: resolve the reference, choose the platform's manifest, fetch the
 * config and layers (three at a time, each streamed into a content writer, resumed from what an
 * earlier attempt left, verified by digest), record the image, and unpack the layers into
 * snapshots named by chain ID, skipping those already there. Blobs carry containerd's
 * {@code containerd.io/gc.ref.*} and {@code containerd.io/distribution.source.*} labels.
 */
public final class Puller {

  /** Where a pull is: one call per change worth showing. */
  public interface Progress {
    void update(String ref, String status, long offset, long total);
  }

  /** What to pull and how. */
  public record Request(String reference, String platform, boolean plainHttp,
      String snapshotter, boolean unpack, String username, String password, String hostsDir) {}

  private static final int PARALLEL_LAYERS = 8;


  private final ContentStore store;
  private final ContentMetadata content;
  private final LeaseStore leases;
  private final ImageStore images;
  private final SnapshotStore snapshots;
  private final Unpacker unpacker;
  private final Blobs blobs;

  public Puller(ContentStore store, ContentMetadata content, LeaseStore leases,
      ImageStore images, SnapshotStore snapshots, LayerApplier applier) {
    this.store = store;
    this.content = content;
    this.leases = leases;
    this.images = images;
    this.snapshots = snapshots;
    this.unpacker = new Unpacker(store, content, snapshots, applier);
    this.blobs = new Blobs(store, content);
  }

  /**
   * Makes one HTTP request, off the request path, to a throw-away server on the loopback: the
   * HTTP client's first build (TLS, the default trust store) and first exchange load most of
   * what the first pull would otherwise wait for (about half a second here).
   */
  public static void warmUp() {
    com.sun.net.httpserver.HttpServer server = null;
    try {
      server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress(
          java.net.InetAddress.getLoopbackAddress(), 0), 0);
      server.createContext("/v2/", exchange -> {
        byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
      });
      server.start();
      try (java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
          .version(java.net.http.HttpClient.Version.HTTP_1_1).build()) {
        http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
            + server.getAddress().getPort() + "/v2/")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofInputStream()).body().readAllBytes();
      }
    } catch (IOException e) {
      // only a warm-up
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (server != null) {
        server.stop(0);
      }
    }
  }

  public Image pull(String namespace, Request request, Snapshotter backend, Progress progress)
      throws IOException {
    String lease = TransferLease.create(leases, namespace);
    try {
      return pull(namespace, lease, request, backend, progress);
    } finally {
      leases.delete(namespace, lease);
    }
  }

  private Image pull(String namespace, String lease, Request request, Snapshotter backend,
      Progress progress) throws IOException {
    ImageReference reference = ImageReference.parse(request.reference());
    String platform = request.platform().isEmpty() ? Platforms.host() : request.platform();
    RegistryClient registry = new RegistryClient(RegistryHosts.of(request.hostsDir(),
        reference, request.plainHttp()), request.username(), request.password());
    String repository = reference.repository();
    Map<String, String> source = Map.of("containerd.io/distribution.source."
        + reference.host(), repository);

    progress.update(reference.toString(), "resolving", 0, 0);
    RegistryClient.Manifest root = registry.manifest(repository, reference.object());
    JsonObject rootJson = parse(root.bytes(), "manifest of " + reference);
    String rootType = mediaType(rootJson, root.mediaType());
    Descriptor target = Descriptor.newBuilder().setMediaType(rootType).setDigest(root.digest())
        .setSize(root.bytes().length).build();

    RegistryClient.Manifest manifest = root;
    JsonObject manifestJson = rootJson;
    if (ImageJson.INDEX_TYPES.containsKey(rootType)) {
      JsonObject chosen = choose(rootJson, platform, reference);
      String digest = Digests.validate(text(chosen, "digest"));
      manifest = registry.manifest(repository, digest);
      manifestJson = parse(manifest.bytes(), "manifest " + digest);
      Map<String, String> labels = new HashMap<>(source);
      labels.put("containerd.io/gc.ref.content.m.0", digest);
      storeBytes(namespace, lease, "index-" + root.digest(), root.bytes(), labels);
    }
    JsonObject config = object(manifestJson, "config");
    JsonArray layers = manifestJson.has("layers") && manifestJson.get("layers").isJsonArray()
        ? manifestJson.getAsJsonArray("layers") : null;
    if (config == null || layers == null) {
      throw new InvalidArgumentException("manifest " + manifest.digest() + " of " + reference
          + " has no config or no layers: not an image manifest");
    }
    String configDigest = Digests.validate(text(config, "digest"));
    Map<String, String> manifestLabels = new HashMap<>(source);
    manifestLabels.put("containerd.io/gc.ref.content.config", configDigest);
    List<JsonObject> layerList = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      JsonObject layer = layers.get(i).getAsJsonObject();
      layerList.add(layer);
      manifestLabels.put("containerd.io/gc.ref.content.l." + i,
          Digests.validate(text(layer, "digest")));
    }
    storeBytes(namespace, lease, "manifest-" + manifest.digest(), manifest.bytes(), manifestLabels);

    fetch(namespace, lease, registry, repository, configDigest, config.get("size").getAsLong(),
        "config-", source, progress);
    JsonObject configJson = parse(read(configDigest), "config " + configDigest);
    List<String> diffIds = diffIds(configJson, configDigest);
    if (diffIds.size() != layerList.size()) {
      throw new InvalidArgumentException("config " + configDigest + " names " + diffIds.size()
          + " layers, the manifest " + layerList.size());
    }
    try (ExecutorService fetchers = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> fetches = startFetches(fetchers, namespace, lease, registry, repository,
          layerList, source, progress);
      try {
        if (request.unpack()) {
          // each layer is unpacked as soon as it and those below it are in: fetching the next
          // ones goes on meanwhile
          unpacker.unpack(namespace, lease, request.snapshotter(), backend, configDigest,
              layerList, diffIds, i -> await(fetches.get(i)), progress::update);
        }
        for (Future<?> fetch : fetches) {
          await(fetch);
        }
      } catch (IOException | RuntimeException e) {
        fetches.forEach(f -> f.cancel(true));
        throw e;
      }
    }
    Image image = record(namespace, reference.toString(), target);
    return image;
  }

  private JsonObject choose(JsonObject index, String platform, ImageReference reference) {
    JsonArray manifests = index.has("manifests") && index.get("manifests").isJsonArray()
        ? index.getAsJsonArray("manifests") : new JsonArray();
    List<String> available = new ArrayList<>();
    for (String wanted : Platforms.preference(platform)) {
      for (JsonElement entry : manifests) {
        JsonObject manifest = entry.getAsJsonObject();
        String entryPlatform = Platforms.of(object(manifest, "platform"));
        if (!available.contains(entryPlatform)) {
          available.add(entryPlatform);
        }
        if (entryPlatform.equals(wanted)) {
          return manifest;
        }
      }
    }
    throw new NotFoundException("no manifest for " + platform + " in " + reference
        + " (it has: " + String.join(", ", available) + ")");
  }

  private List<Future<?>> startFetches(ExecutorService fetchers, String namespace, String lease,
      RegistryClient registry, String repository, List<JsonObject> layers,
      Map<String, String> labels, Progress progress) {
    Semaphore slots = new Semaphore(PARALLEL_LAYERS);
    List<Future<?>> fetches = new ArrayList<>();
    for (JsonObject layer : layers) {
      String digest = Digests.validate(text(layer, "digest"));
      long size = layer.get("size").getAsLong();
      progress.update(digest, "waiting", 0, size);
      fetches.add(fetchers.submit(() -> {
        slots.acquire();
        try {
          fetch(namespace, lease, registry, repository, digest, size, "layer-", labels,
              progress);
        } finally {
          slots.release();
        }
        return null;
      }));
    }
    return fetches;
  }

  /** Waits for one fetch, rethrowing its failure as it was. */
  private static void await(Future<?> fetch) throws IOException {
    try {
      fetch.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("pull interrupted", e);
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

  /** Makes {@code digest} visible in the namespace, downloading what the store lacks. */
  private void fetch(String namespace, String lease, RegistryClient registry,
      String repository, String digest, long size, String kind, Map<String, String> labels,
      Progress progress) throws IOException {
    if (content.leaseIfPresent(namespace, digest, lease)) {
      progress.update(digest, "exists", size, size);
      return;
    }
    if (store.info(digest).isEmpty()) {
      try (ContentWriter writer = store.writer(namespace + "/" + kind + digest, size, digest)) {
        long offset = writer.offset();
        RegistryClient.Blob blob = registry.blob(repository, digest, offset);
        if (offset > 0 && !blob.resumed()) {
          writer.truncate(); // the registry sent it all again
          offset = 0;
        }
        progress.update(digest, offset > 0 ? "resumed" : "downloading", offset, size);
        byte[] buffer = new byte[1 << 20];
        long reported = offset;
        try (InputStream in = blob.body()) {
          int n;
          while ((n = in.read(buffer)) > 0) {
            writer.write(ByteBuffer.wrap(buffer, 0, n));
            if (writer.offset() - reported >= (4 << 20)) {
              reported = writer.offset();
              progress.update(digest, "downloading", reported, size);
            }
          }
        }
        blobs.commit(writer, size, digest, namespace, labels, lease);
        progress.update(digest, "done", size, size);
        return;
      } catch (AlreadyExistsException e) {
        // fetched meanwhile by another pull: shared below
      }
    }
    blobs.share(namespace, digest, size, labels, lease);
    progress.update(digest, "done", size, size);
  }

  private void storeBytes(String namespace, String lease, String ref, byte[] bytes,
      Map<String, String> labels) throws IOException {
    String digest = Digests.of(bytes);
    if (store.info(digest).isEmpty()) {
      try (ContentWriter writer = store.writer(namespace + "/" + ref, bytes.length, digest)) {
        writer.truncate();
        writer.write(ByteBuffer.wrap(bytes));
        blobs.commit(writer, bytes.length, digest, namespace, labels, lease);
        return;
      } catch (AlreadyExistsException e) {
        // written meanwhile
      }
    }
    blobs.share(namespace, digest, bytes.length, labels, lease);
  }

  private Image record(String namespace, String name, Descriptor target) {
    Image image = Image.newBuilder().setName(name).setTarget(target).build();
    try {
      return images.create(namespace, image);
    } catch (AlreadyExistsException e) {
      return images.update(namespace, image, List.of("target"));
    }
  }

  private byte[] read(String digest) throws IOException {
    try (InputStream in = Channels.newInputStream(store.open(digest))) {
      return in.readAllBytes();
    }
  }

}
