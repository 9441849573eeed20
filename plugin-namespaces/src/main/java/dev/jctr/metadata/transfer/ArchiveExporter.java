package dev.jctr.metadata.transfer;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.jctr.api.content.ContentStore;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.types.Descriptor;
import dev.jctr.metadata.pull.ImageReference;
import dev.jctr.metadata.pull.Platforms;
import dev.jctr.metadata.store.ContentMetadata;
import dev.jctr.metadata.store.ImageStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes images as one tar that is both an OCI image layout ({@code oci-layout},
 * {@code index.json} naming each image by {@code io.containerd.image.name} and
 * {@code org.opencontainers.image.ref.name}, {@code blobs/sha256/...}) and a {@code docker save}
 * archive ({@code manifest.json} pointing into the same blobs), as containerd's export does.
 * Of an index, the manifests for the platform asked for go (all with {@code allPlatforms});
 * the index itself always does, its other manifests only when the store has them.
 */
public final class ArchiveExporter {

  private final ContentStore store;
  private final ContentMetadata content;
  private final ImageStore images;

  public ArchiveExporter(ContentStore store, ContentMetadata content, ImageStore images) {
    this.store = store;
    this.content = content;
    this.images = images;
  }

  public void export(String namespace, List<String> names, String platform,
      boolean allPlatforms, OutputStream out) throws IOException {
    if (names.isEmpty()) {
      throw new InvalidArgumentException("export needs at least one image name");
    }
    String wanted = platform.isEmpty() ? Platforms.host() : platform;
    Set<String> blobs = new LinkedHashSet<>();
    JsonArray index = new JsonArray();
    JsonArray docker = new JsonArray();
    for (String name : names) {
      Image image = images.get(namespace, name);
      Descriptor target = image.getTarget();
      String manifest = collect(namespace, name, target, wanted, allPlatforms, blobs);
      JsonObject entry = descriptorJson(target);
      JsonObject annotations = entry.has("annotations") ? entry.getAsJsonObject("annotations")
          : new JsonObject();
      annotations.addProperty("io.containerd.image.name", name);
      String tag = tagOf(name);
      if (!tag.isEmpty()) {
        annotations.addProperty("org.opencontainers.image.ref.name", tag);
      }
      entry.add("annotations", annotations);
      index.add(entry);
      if (manifest != null) {
        docker.add(dockerEntry(name, manifest));
      }
    }
    // check every blob is there before writing a byte: a failure leaves no partial archive
    for (String digest : blobs) {
      if (store.info(digest).isEmpty()) {
        throw new FailedPreconditionException("blob " + digest + " is missing from the"
            + " content store; pull the image again");
      }
    }
    TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    put(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
    for (String digest : blobs) {
      long size = store.info(digest).orElseThrow().size();
      TarArchiveEntry entry = new TarArchiveEntry("blobs/" + digest.replace(':', '/'));
      entry.setSize(size);
      entry.setMode(0444);
      tar.putArchiveEntry(entry);
      try (InputStream in = Channels.newInputStream(store.open(digest))) {
        in.transferTo(tar);
      }
      tar.closeArchiveEntry();
    }
    JsonObject indexJson = new JsonObject();
    indexJson.addProperty("schemaVersion", 2);
    indexJson.addProperty("mediaType", ImageJson.OCI_INDEX);
    indexJson.add("manifests", index);
    put(tar, "index.json", indexJson.toString());
    if (!docker.isEmpty()) {
      put(tar, "manifest.json", docker.toString());
    }
    tar.finish();
    out.flush();
  }

  /**
   * Adds {@code target} and what it needs to {@code blobs}; returns the digest of the manifest
   * for {@code platform} (null when the store has none).
   */
  private String collect(String namespace, String name, Descriptor target, String platform,
      boolean allPlatforms, Set<String> blobs) throws IOException {
    String digest = target.getDigest();
    requireHeld(namespace, name, digest);
    blobs.add(digest);
    JsonObject json = ImageJson.parse(read(digest), digest);
    if (ImageJson.INDEX_TYPES.containsKey(ImageJson.mediaType(json, target.getMediaType()))) {
      String chosen = null;
      Map<String, JsonObject> byPlatform = new LinkedHashMap<>();
      for (JsonObject child : ImageJson.manifests(json, digest)) {
        byPlatform.putIfAbsent(Platforms.of(ImageJson.object(child, "platform")), child);
      }
      for (String acceptable : Platforms.preference(platform)) {
        if (byPlatform.containsKey(acceptable)) {
          chosen = ImageJson.digest(byPlatform.get(acceptable));
          break;
        }
      }
      String found = null;
      for (JsonObject child : ImageJson.manifests(json, digest)) {
        String childDigest = ImageJson.digest(child);
        boolean wanted = allPlatforms || childDigest.equals(chosen);
        if (!wanted && content.get(namespace, childDigest).isEmpty()) {
          continue; // another platform's, never pulled
        }
        String manifest = collect(namespace, name, ArchiveImporter.descriptor(child), platform,
            allPlatforms, blobs);
        if (childDigest.equals(chosen)) {
          found = manifest;
        }
      }
      if (chosen == null && !allPlatforms) {
        throw new FailedPreconditionException("image \"" + name + "\" has no manifest for "
            + platform + "; export it with all platforms or another --platform");
      }
      return found;
    }
    String config = ImageJson.digest(ImageJson.config(json, digest));
    requireHeld(namespace, name, config);
    blobs.add(config);
    for (JsonObject layer : ImageJson.layers(json, digest)) {
      String layerDigest = ImageJson.digest(layer);
      requireHeld(namespace, name, layerDigest);
      blobs.add(layerDigest);
    }
    return digest;
  }

  private JsonObject dockerEntry(String name, String manifestDigest) throws IOException {
    JsonObject manifest = ImageJson.parse(read(manifestDigest), manifestDigest);
    JsonObject entry = new JsonObject();
    entry.addProperty("Config", path(ImageJson.digest(ImageJson.config(manifest,
        manifestDigest))));
    JsonArray tags = new JsonArray();
    tags.add(familiar(name));
    entry.add("RepoTags", tags);
    JsonArray layers = new JsonArray();
    for (JsonObject layer : ImageJson.layers(manifest, manifestDigest)) {
      layers.add(path(ImageJson.digest(layer)));
    }
    entry.add("Layers", layers);
    return entry;
  }

  private void requireHeld(String namespace, String image, String digest) {
    if (content.get(namespace, digest).isEmpty()) {
      throw new FailedPreconditionException("image \"" + image + "\" needs blob " + digest
          + ", which namespace \"" + namespace + "\" does not hold; pull the image again");
    }
  }

  private byte[] read(String digest) throws IOException {
    if (store.info(digest).map(b -> b.size() > ImageJson.MAX_MANIFEST).orElse(false)) {
      throw new InvalidArgumentException(digest + " is larger than " + ImageJson.MAX_MANIFEST
          + " bytes: not a manifest");
    }
    try (InputStream in = Channels.newInputStream(store.open(digest))) {
      return in.readAllBytes();
    }
  }

  private static String path(String digest) {
    return "blobs/" + digest.replace(':', '/');
  }

  /** Docker's short form of a name: {@code docker.io/library/busybox:1} is {@code busybox:1}. */
  static String familiar(String name) {
    String familiar = name;
    if (familiar.startsWith("docker.io/")) {
      familiar = familiar.substring("docker.io/".length());
      if (familiar.startsWith("library/") && familiar.indexOf('/', 8) < 0) {
        familiar = familiar.substring("library/".length());
      }
    }
    return familiar;
  }

  private static String tagOf(String name) {
    try {
      return ImageReference.parse(name).tag();
    } catch (InvalidArgumentException e) {
      return "";
    }
  }

  private static JsonObject descriptorJson(Descriptor descriptor) {
    JsonObject json = new JsonObject();
    json.addProperty("mediaType", descriptor.getMediaType());
    json.addProperty("digest", descriptor.getDigest());
    json.addProperty("size", descriptor.getSize());
    if (!descriptor.getAnnotationsMap().isEmpty()) {
      JsonObject annotations = new JsonObject();
      descriptor.getAnnotationsMap().forEach(annotations::addProperty);
      json.add("annotations", annotations);
    }
    return json;
  }

  private static void put(TarArchiveOutputStream tar, String name, String text)
      throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    TarArchiveEntry entry = new TarArchiveEntry(name);
    entry.setSize(bytes.length);
    entry.setMode(0444);
    tar.putArchiveEntry(entry);
    tar.write(bytes);
    tar.closeArchiveEntry();
  }

}
