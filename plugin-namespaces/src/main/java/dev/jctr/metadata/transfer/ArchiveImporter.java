package dev.jctr.metadata.transfer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jctr.api.content.ContentStore;
import dev.jctr.api.content.Digests;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.proto.containerd.services.content.v1.Info;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.types.Descriptor;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.metadata.pull.ImageReference;
import dev.jctr.metadata.pull.Platforms;
import dev.jctr.metadata.store.ContentMetadata;
import dev.jctr.metadata.store.ImageStore;
import dev.jctr.metadata.store.LeaseStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Imports an image archive read as a stream: an OCI image layout tar ({@code oci-layout},
 * {@code index.json}, {@code blobs/<alg>/<hex>}) or a {@code docker save} tar
 * ({@code manifest.json}, configs and {@code layer.tar}s). Every blob goes straight into the
 * content store, verified; images are recorded only once all their blobs are in and (unless
 * skipped) unpacked, so a failed import names no image and its blobs go with the next
 * collection.
 */
public final class ArchiveImporter {

  /** How to import. */
  public record Options(String baseName, boolean unpack, String snapshotter, String platform) {}

  private static final String NAME_ANNOTATION = "io.containerd.image.name";
  private static final String REF_ANNOTATION = "org.opencontainers.image.ref.name";

  private final ContentStore store;
  private final ContentMetadata content;
  private final LeaseStore leases;
  private final ImageStore images;
  private final Unpacker unpacker;
  private final Blobs blobs;

  public ArchiveImporter(ContentStore store, ContentMetadata content, LeaseStore leases,
      ImageStore images, Unpacker unpacker) {
    this.store = store;
    this.content = content;
    this.leases = leases;
    this.images = images;
    this.unpacker = unpacker;
    this.blobs = new Blobs(store, content);
  }

  public List<Image> importArchive(String namespace, InputStream archive, Options options,
      Snapshotter backend, Unpacker.Progress progress) throws IOException {
    String lease = TransferLease.create(leases, namespace);
    try {
      return importArchive(namespace, lease, archive, options, backend, progress);
    } finally {
      leases.delete(namespace, lease);
    }
  }

  /** What the tar held: its small JSON files and, by path, the blobs stored from it. */
  private static final class Contents {
    byte[] index;
    byte[] dockerManifest;
    final Map<String, String> digests = new HashMap<>();
    final Map<String, Long> sizes = new HashMap<>();
    final Map<String, String> links = new HashMap<>();
  }

  private List<Image> importArchive(String namespace, String lease, InputStream archive,
      Options options, Snapshotter backend, Unpacker.Progress progress) throws IOException {
    Contents contents = read(namespace, lease, archive, progress);
    Map<String, Descriptor> named;
    if (contents.index != null) {
      named = fromIndex(namespace, contents, options);
    } else if (contents.dockerManifest != null) {
      named = fromDockerManifest(namespace, lease, contents, options);
    } else {
      throw new InvalidArgumentException("not an image archive: it has neither index.json (an"
          + " OCI image layout) nor manifest.json (docker save)");
    }
    if (named.isEmpty()) {
      throw new InvalidArgumentException("the archive names no image; give a base name"
          + " (--base-name) for the tags it has");
    }
    String platform = options.platform().isEmpty() ? Platforms.host() : options.platform();
    if (options.unpack()) {
      for (Descriptor target : new LinkedHashMap<>(named).values()) {
        String manifest = platformManifest(namespace, target, platform);
        unpacker.unpack(namespace, lease, options.snapshotter(), backend, manifest, progress);
      }
    }
    List<Image> created = new ArrayList<>();
    for (Map.Entry<String, Descriptor> image : named.entrySet()) {
      Image record = Image.newBuilder().setName(image.getKey()).setTarget(image.getValue())
          .build();
      try {
        created.add(images.create(namespace, record));
      } catch (AlreadyExistsException e) {
        created.add(images.update(namespace, record, List.of("target")));
      }
      progress.update(image.getKey(), "imported", 0, 0);
    }
    return created;
  }

  private Contents read(String namespace, String lease, InputStream archive,
      Unpacker.Progress progress) throws IOException {
    Contents contents = new Contents();
    TarArchiveInputStream tar = new TarArchiveInputStream(archive);
    TarArchiveEntry entry;
    while ((entry = tar.getNextEntry()) != null) {
      String path = normalize(entry.getName());
      if (entry.isDirectory() || path.isEmpty()) {
        continue;
      }
      if (entry.isSymbolicLink() || entry.isLink()) {
        // docker save links a repeated layer.tar to its first copy
        String target = entry.isLink() ? normalize(entry.getLinkName())
            : resolve(path, entry.getLinkName());
        contents.links.put(path, target);
        continue;
      }
      if (!entry.isFile()) {
        throw new InvalidArgumentException("archive entry \"" + path + "\" is not a file");
      }
      long size = entry.getSize();
      switch (path) {
        case "index.json" -> contents.index = small(tar, size, path);
        case "manifest.json" -> contents.dockerManifest = small(tar, size, path);
        case "oci-layout", "repositories" -> small(tar, size, path);
        default -> {
          String expected = "";
          if (path.startsWith("blobs/")) {
            String[] parts = path.split("/");
            if (parts.length != 3) {
              throw new InvalidArgumentException("archive entry \"" + path
                  + "\" is not blobs/<algorithm>/<digest>");
            }
            expected = Digests.validate(parts[1] + ":" + parts[2]);
          }
          String digest = blobs.store(namespace, lease, "import-" + path.replace('/', '-'),
              tar, size, expected, Map.of());
          contents.digests.put(path, digest);
          contents.sizes.put(path, size);
          progress.update(digest, "stored", size, size);
        }
      }
    }
    return contents;
  }

  /** Entry names as relative paths; any that could reach outside the archive are refused. */
  static String normalize(String name) {
    String path = name;
    while (path.startsWith("./")) {
      path = path.substring(2);
    }
    if (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (path.startsWith("/") || path.contains("\0")) {
      throw new InvalidArgumentException("archive entry \"" + name + "\" is an absolute path");
    }
    for (String segment : path.split("/")) {
      if (segment.equals("..")) {
        throw new InvalidArgumentException("archive entry \"" + name + "\" climbs out with ..");
      }
    }
    return path;
  }

  private static String resolve(String from, String link) {
    int slash = from.lastIndexOf('/');
    String dir = slash < 0 ? "" : from.substring(0, slash + 1);
    return normalize(link.startsWith("/") ? link : dir + link);
  }

  private static byte[] small(InputStream in, long size, String path) throws IOException {
    if (size > ImageJson.MAX_MANIFEST) {
      throw new InvalidArgumentException("archive entry " + path + " is " + size
          + " bytes, more than the " + ImageJson.MAX_MANIFEST + " allowed");
    }
    return in.readNBytes((int) size);
  }

  /** Images of an OCI layout, by name: from its index's annotations. */
  private Map<String, Descriptor> fromIndex(String namespace, Contents contents,
      Options options) throws IOException {
    JsonObject index = ImageJson.parse(contents.index, "index.json");
    Map<String, Descriptor> named = new LinkedHashMap<>();
    for (JsonObject entry : ImageJson.manifests(index, "index.json")) {
      String name = nameOf(entry, options.baseName());
      Descriptor target = descriptor(entry);
      require(namespace, target.getDigest(), "index.json");
      labelChildren(namespace, target);
      if (!name.isEmpty()) {
        named.put(name, target);
      }
    }
    return named;
  }

  private static String nameOf(JsonObject entry, String baseName) {
    String name = ImageJson.annotation(entry, NAME_ANNOTATION);
    if (!name.isEmpty()) {
      return ImageReference.parse(name).toString();
    }
    String ref = ImageJson.annotation(entry, REF_ANNOTATION);
    if (ref.isEmpty()) {
      return "";
    }
    if (ref.matches("[\\w][\\w.-]{0,127}")) { // a tag only
      return baseName.isEmpty() ? "" : ImageReference.parse(baseName + ":" + ref).toString();
    }
    return ImageReference.parse(ref).toString();
  }

  /** Images of a docker save archive: a Docker manifest made for each entry. */
  private Map<String, Descriptor> fromDockerManifest(String namespace, String lease,
      Contents contents, Options options) throws IOException {
    JsonElement parsed;
    if (contents.dockerManifest.length > ImageJson.MAX_MANIFEST) {
      throw new InvalidArgumentException("manifest.json is too large");
    }
    try {
      parsed = JsonParser.parseString(new String(contents.dockerManifest,
          StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new InvalidArgumentException("manifest.json is not JSON: " + e.getMessage());
    }
    if (!parsed.isJsonArray()) {
      throw new InvalidArgumentException("manifest.json is not a list of images");
    }
    Map<String, Descriptor> named = new LinkedHashMap<>();
    for (JsonElement element : parsed.getAsJsonArray()) {
      if (!element.isJsonObject()) {
        throw new InvalidArgumentException("manifest.json: an entry is not an object");
      }
      JsonObject entry = element.getAsJsonObject();
      String configPath = ImageJson.text(entry, "Config");
      String configDigest = blobAt(contents, configPath);
      JsonArray layers = entry.has("Layers") && entry.get("Layers").isJsonArray()
          ? entry.getAsJsonArray("Layers") : new JsonArray();
      JsonObject manifest = new JsonObject();
      manifest.addProperty("schemaVersion", 2);
      manifest.addProperty("mediaType", ImageJson.DOCKER_MANIFEST);
      JsonObject config = new JsonObject();
      config.addProperty("mediaType", ImageJson.DOCKER_CONFIG);
      config.addProperty("size", sizeAt(contents, configPath));
      config.addProperty("digest", configDigest);
      manifest.add("config", config);
      JsonArray layerDescriptors = new JsonArray();
      Map<String, String> labels = new HashMap<>();
      labels.put("containerd.io/gc.ref.content.config", configDigest);
      for (int i = 0; i < layers.size(); i++) {
        String path = layers.get(i).getAsString();
        String digest = blobAt(contents, path);
        JsonObject layer = new JsonObject();
        layer.addProperty("mediaType", gzipped(digest) ? ImageJson.DOCKER_LAYER_GZIP
            : ImageJson.DOCKER_LAYER);
        layer.addProperty("size", sizeAt(contents, path));
        layer.addProperty("digest", digest);
        layerDescriptors.add(layer);
        labels.put("containerd.io/gc.ref.content.l." + i, digest);
      }
      manifest.add("layers", layerDescriptors);
      byte[] bytes = manifest.toString().getBytes(StandardCharsets.UTF_8);
      String digest = blobs.store(namespace, lease, "import-manifest-" + configDigest,
          new java.io.ByteArrayInputStream(bytes), bytes.length, Digests.of(bytes), labels);
      Descriptor target = Descriptor.newBuilder().setMediaType(ImageJson.DOCKER_MANIFEST)
          .setDigest(digest).setSize(bytes.length).build();
      JsonArray tags = entry.has("RepoTags") && entry.get("RepoTags").isJsonArray()
          ? entry.getAsJsonArray("RepoTags") : new JsonArray();
      for (JsonElement tag : tags) {
        named.put(ImageReference.parse(tag.getAsString()).toString(), target);
      }
      if (tags.isEmpty() && !options.baseName().isEmpty()) {
        named.put(ImageReference.parse(options.baseName()).toString(), target);
      }
    }
    return named;
  }

  private static String blobAt(Contents contents, String path) {
    String at = normalize(path);
    for (int hops = 0; contents.links.containsKey(at) && hops < 16; hops++) {
      at = contents.links.get(at);
    }
    String digest = contents.digests.get(at);
    if (digest == null) {
      throw new InvalidArgumentException("manifest.json names " + path
          + ", which the archive does not hold");
    }
    return digest;
  }

  private static long sizeAt(Contents contents, String path) {
    String at = normalize(path);
    for (int hops = 0; contents.links.containsKey(at) && hops < 16; hops++) {
      at = contents.links.get(at);
    }
    return contents.sizes.get(at);
  }

  private boolean gzipped(String digest) throws IOException {
    try (InputStream in = Channels.newInputStream(store.open(digest))) {
      return in.read() == 0x1f && in.read() == 0x8b;
    }
  }

  /**
   * Labels an index's and a manifest's blobs with the {@code gc.ref} labels that keep their
   * children, as a pull does; children an index names but the archive lacks are left out.
   */
  private void labelChildren(String namespace, Descriptor target) throws IOException {
    JsonObject json = ImageJson.parse(read(target.getDigest()), target.getDigest());
    String type = ImageJson.mediaType(json, target.getMediaType());
    Map<String, String> labels = new HashMap<>();
    if (ImageJson.INDEX_TYPES.containsKey(type)) {
      int i = 0;
      for (JsonObject child : ImageJson.manifests(json, target.getDigest())) {
        Descriptor descriptor = descriptor(child);
        if (content.get(namespace, descriptor.getDigest()).isPresent()) {
          labels.put("containerd.io/gc.ref.content.m." + i++, descriptor.getDigest());
          labelChildren(namespace, descriptor);
        }
      }
    } else {
      String config = ImageJson.digest(ImageJson.config(json, target.getDigest()));
      require(namespace, config, target.getDigest());
      labels.put("containerd.io/gc.ref.content.config", config);
      List<JsonObject> layers = ImageJson.layers(json, target.getDigest());
      for (int i = 0; i < layers.size(); i++) {
        String layer = ImageJson.digest(layers.get(i));
        require(namespace, layer, target.getDigest());
        labels.put("containerd.io/gc.ref.content.l." + i, layer);
      }
    }
    Info.Builder update = Info.newBuilder().setDigest(target.getDigest()).putAllLabels(labels);
    List<String> paths = labels.keySet().stream().map(k -> "labels." + k).toList();
    if (!paths.isEmpty()) {
      content.update(namespace, update.build(), paths);
    }
  }

  /** The manifest of {@code target} for {@code platform}: itself, or its index's choice. */
  private String platformManifest(String namespace, Descriptor target, String platform)
      throws IOException {
    JsonObject json = ImageJson.parse(read(target.getDigest()), target.getDigest());
    if (!ImageJson.INDEX_TYPES.containsKey(ImageJson.mediaType(json, target.getMediaType()))) {
      return target.getDigest();
    }
    List<String> available = new ArrayList<>();
    for (String wanted : Platforms.preference(platform)) {
      for (JsonObject child : ImageJson.manifests(json, target.getDigest())) {
        String childPlatform = Platforms.of(ImageJson.object(child, "platform"));
        String digest = ImageJson.digest(child);
        if (content.get(namespace, digest).isEmpty()) {
          continue;
        }
        available.add(childPlatform);
        if (childPlatform.equals(wanted) || childPlatform.isEmpty()) {
          return platformManifest(namespace, descriptor(child), platform);
        }
      }
    }
    throw new NotFoundException("no manifest for " + platform + " in the archive's index "
        + target.getDigest() + " (it has: " + String.join(", ", available) + ")");
  }

  private void require(String namespace, String digest, String from) {
    if (content.get(namespace, digest).isEmpty()) {
      throw new FailedPreconditionException(from + " names " + digest
          + ", which the archive does not hold");
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

  static Descriptor descriptor(JsonObject json) {
    Descriptor.Builder descriptor = Descriptor.newBuilder()
        .setMediaType(json.has("mediaType") ? ImageJson.text(json, "mediaType") : "")
        .setDigest(ImageJson.digest(json)).setSize(ImageJson.size(json));
    JsonObject annotations = ImageJson.object(json, "annotations");
    if (annotations != null) {
      annotations.entrySet().forEach(a -> descriptor.putAnnotations(a.getKey(),
          a.getValue().getAsString()));
    }
    return descriptor.build();
  }
}
