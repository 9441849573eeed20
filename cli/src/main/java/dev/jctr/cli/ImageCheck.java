package dev.jctr.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jctr.api.proto.containerd.services.content.v1.ContentGrpc;
import dev.jctr.api.proto.containerd.services.content.v1.Info;
import dev.jctr.api.proto.containerd.services.content.v1.InfoRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ReadContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ReadContentResponse;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.services.snapshots.v1.SnapshotsGrpc;
import dev.jctr.api.proto.containerd.services.snapshots.v1.StatSnapshotRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Optional;

/**
 * {@code jctr images check}: whether the store holds all of an image for this platform (its
 * index or manifest, config and layers) and whether it is unpacked, as ctr reports it.
 */
final class ImageCheck {

  /** One image's state: blobs present of those needed, their size, unpacked or not. */
  record Result(String status, long present, long needed, long size, boolean unpacked) {}

  private final Jctr root;
  private final String snapshotter;
  private final String platformArch;

  ImageCheck(Jctr root, String snapshotter) {
    this.root = root;
    this.snapshotter = snapshotter;
    String arch = System.getProperty("os.arch");
    this.platformArch = arch.equals("x86_64") ? "amd64" : arch.equals("aarch64") ? "arm64"
        : arch;
  }

  Result check(Image image) throws IOException {
    Counter counter = new Counter();
    String config = walk(image.getTarget().getDigest(), counter);
    boolean unpacked = false;
    if (config != null) {
      Optional<Info> info = info(config);
      String top = info.map(i -> i.getLabelsMap().get("containerd.io/gc.ref.snapshot."
          + snapshotter)).orElse(null);
      unpacked = top != null && snapshotExists(top);
    }
    String status = counter.present == counter.needed ? "complete"
        : "incomplete (" + counter.present + "/" + counter.needed + ")";
    return new Result(status, counter.present, counter.needed, counter.size, unpacked);
  }

  private static final class Counter {
    long present;
    long needed;
    long size;
  }

  /** Counts what {@code digest} needs; returns the platform manifest's config, if known. */
  private String walk(String digest, Counter counter) throws IOException {
    counter.needed++;
    Optional<Info> info = info(digest);
    if (info.isEmpty()) {
      return null;
    }
    counter.present++;
    counter.size += info.get().getSize();
    JsonObject json = JsonParser.parseString(read(digest)).getAsJsonObject();
    if (json.has("manifests")) {
      for (JsonElement child : json.getAsJsonArray("manifests")) {
        JsonObject descriptor = child.getAsJsonObject();
        JsonObject platform = descriptor.has("platform")
            ? descriptor.getAsJsonObject("platform") : null;
        if (platform == null || platformArch.equals(platform.get("architecture")
            .getAsString())) {
          return walk(descriptor.get("digest").getAsString(), counter);
        }
      }
      return null;
    }
    String config = json.getAsJsonObject("config").get("digest").getAsString();
    blob(config, counter);
    for (JsonElement layer : json.getAsJsonArray("layers")) {
      blob(layer.getAsJsonObject().get("digest").getAsString(), counter);
    }
    return config;
  }

  private void blob(String digest, Counter counter) {
    counter.needed++;
    info(digest).ifPresent(i -> {
      counter.present++;
      counter.size += i.getSize();
    });
  }

  private Optional<Info> info(String digest) {
    try {
      return Optional.of(root.call(ContentGrpc.getInfoMethod(), InfoRequest.newBuilder()
          .setDigest(digest).build()).getInfo());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private boolean snapshotExists(String key) {
    try {
      root.call(SnapshotsGrpc.getStatMethod(), StatSnapshotRequest.newBuilder()
          .setSnapshotter(snapshotter).setKey(key).build());
      return true;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  private String read(String digest) throws IOException {
    return readBlob(root, digest);
  }

  /** A blob's bytes as text (manifests, configs), read through the Content service. */
  static String readBlob(Jctr root, String digest) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Iterator<ReadContentResponse> chunks = root.listing(ContentGrpc.getReadMethod(),
        ReadContentRequest.newBuilder().setDigest(digest).build());
    while (chunks.hasNext()) {
      chunks.next().getData().writeTo(bytes);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
