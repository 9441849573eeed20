package dev.jctr.cri;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.identifiers.ImageNames;
import dev.jctr.api.images.ImageCatalog;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.cri.v1.ImageSpec;
import dev.jctr.api.proto.cri.v1.Int64Value;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CRI's view of the images in {@code k8s.io}: one CRI image per image config (its id is
 * the config's digest), with every record pointing at it as a repo tag and a repo digest, as
 * containerd's CRI shows them. An image is found by id, by reference or by repo digest.
 */
final class CriImages {

  static final String NAMESPACE = "k8s.io";

  private final ImageCatalog catalog;
  private final String arch;
  /**
   * What a manifest or index digest resolved to. Content is immutable by digest, so a digest
   * is read and parsed once, not on every pod and container start (a few hundred at most).
   */
  private final Map<String, Resolved> resolvedByDigest = java.util.Collections.synchronizedMap(
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Resolved> eldest) {
          return size() > 256;
        }
      });

  CriImages(ImageCatalog catalog) {
    this.catalog = catalog;
    this.arch = System.getProperty("os.arch").equals("aarch64") ? "arm64" : "amd64";
  }

  /** What one image config resolves to; {@code config} is shared: read it, never change it. */
  record Resolved(String configDigest, long size, JsonObject config) {}

  /** An image as containers use it: a record's name, its config, its top layer's chain id. */
  record Usable(String name, String id, String chainId, JsonObject config) {}

  /** One CRI image and the names of the records behind it. */
  record Entry(dev.jctr.api.proto.cri.v1.Image image, List<String> records) {}

  /** Every CRI image, grouped by config, in record order (one pass over the records). */
  List<Entry> entries() {
    Map<String, List<Image>> byConfig = new LinkedHashMap<>();
    Map<String, Resolved> resolved = new LinkedHashMap<>();
    for (Image record : catalog.list(NAMESPACE)) {
      Resolved r;
      try {
        r = resolve(record);
      } catch (RuntimeException e) {
        continue; // an image whose content is incomplete is not one the kubelet can use
      }
      resolved.putIfAbsent(r.configDigest(), r);
      byConfig.computeIfAbsent(r.configDigest(), k -> new ArrayList<>()).add(record);
    }
    List<Entry> entries = new ArrayList<>();
    byConfig.forEach((config, records) -> entries.add(new Entry(toCri(resolved.get(config),
        records), records.stream().map(Image::getName).toList())));
    return entries;
  }

  List<dev.jctr.api.proto.cri.v1.Image> list() {
    return entries().stream().map(Entry::image).toList();
  }

  /** Whether {@code ref} (an id, a reference as the kubelet writes it, a repo digest) names it. */
  static boolean names(dev.jctr.api.proto.cri.v1.Image image, String ref) {
    if (ref.startsWith("sha256:")) {
      return image.getId().equals(ref);
    }
    String normalized = ImageNames.normalize(ref);
    return image.getRepoTagsList().contains(normalized)
        || image.getRepoDigestsList().contains(normalized);
  }

  /** The image {@code ref} names, or NotFound. */
  Entry find(String ref) {
    return entries().stream().filter(entry -> names(entry.image(), ref)).findFirst()
        .orElseThrow(() -> new NotFoundException("image \"" + ref + "\" in namespace "
            + NAMESPACE));
  }

  /** The image record {@code name} (normalized) as containers use it, or NotFound. */
  Usable resolveByName(String name) {
    Image record = catalog.get(NAMESPACE, name);
    Resolved resolved = resolve(record);
    return new Usable(record.getName(), resolved.configDigest(), chainId(resolved.config()),
        resolved.config().deepCopy());
  }

  /** A CRI image (from {@link #find}) as containers use it, by its first record. */
  Usable resolve(Entry entry) {
    return resolveByName(entry.records().get(0));
  }

  /** The chain ID of the image's layers: the name its top snapshot was committed under. */
  static String chainId(JsonObject config) {
    String chain = "";
    try {
      for (JsonElement diffId : config.getAsJsonObject("rootfs").getAsJsonArray("diff_ids")) {
        if (chain.isEmpty()) {
          chain = diffId.getAsString();
        } else {
          byte[] hash = java.security.MessageDigest.getInstance("SHA-256").digest((chain + " "
              + diffId.getAsString()).getBytes(StandardCharsets.UTF_8));
          chain = "sha256:" + java.util.HexFormat.of().formatHex(hash);
        }
      }
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return chain;
  }

  Resolved resolve(Image record) {
    try {
      return resolve(record.getTarget().getDigest());
    } catch (IOException e) {
      throw new UncheckedIOException("image " + record.getName() + ": " + e.getMessage(), e);
    }
  }

  private Resolved resolve(String digest) throws IOException {
    Resolved known = resolvedByDigest.get(digest);
    if (known != null) {
      return known;
    }
    Resolved resolved = read(digest);
    resolvedByDigest.put(digest, resolved);
    return resolved;
  }

  private Resolved read(String digest) throws IOException {
    JsonObject json = json(digest);
    if (json.has("manifests")) {
      for (JsonElement child : json.getAsJsonArray("manifests")) {
        JsonObject descriptor = child.getAsJsonObject();
        JsonObject platform = descriptor.has("platform")
            ? descriptor.getAsJsonObject("platform") : null;
        if (platform == null || arch.equals(platform.get("architecture").getAsString())) {
          return resolve(descriptor.get("digest").getAsString());
        }
      }
      throw new NotFoundException("image index " + digest + " has no linux/" + arch
          + " manifest");
    }
    JsonObject configDescriptor = json.getAsJsonObject("config");
    long size = configDescriptor.get("size").getAsLong();
    for (JsonElement layer : json.getAsJsonArray("layers")) {
      size += layer.getAsJsonObject().get("size").getAsLong();
    }
    String config = configDescriptor.get("digest").getAsString();
    return new Resolved(config, size, json(config));
  }

  private JsonObject json(String digest) throws IOException {
    return JsonParser.parseString(new String(catalog.read(NAMESPACE, digest),
        StandardCharsets.UTF_8)).getAsJsonObject();
  }

  private static dev.jctr.api.proto.cri.v1.Image toCri(Resolved resolved, List<Image> records) {
    dev.jctr.api.proto.cri.v1.Image.Builder image = dev.jctr.api.proto.cri.v1.Image.newBuilder()
        .setId(resolved.configDigest()).setSize(resolved.size())
        .setSpec(ImageSpec.newBuilder().setImage(resolved.configDigest()));
    for (Image record : records) {
      String name = record.getName();
      if (name.startsWith("sha256:")) {
        continue;
      }
      if (name.contains("@")) {
        addOnce(image.getRepoDigestsList(), name, image::addRepoDigests);
      } else {
        image.addRepoTags(name);
        int colon = name.lastIndexOf(':');
        String repo = colon > name.lastIndexOf('/') ? name.substring(0, colon) : name;
        addOnce(image.getRepoDigestsList(), repo + "@" + record.getTarget().getDigest(),
            image::addRepoDigests);
      }
    }
    JsonObject config = resolved.config().has("config")
        && resolved.config().get("config").isJsonObject()
        ? resolved.config().getAsJsonObject("config") : new JsonObject();
    String user = config.has("User") ? config.get("User").getAsString() : "";
    String name = user.split(":", 2)[0];
    if (name.matches("\\d+")) {
      image.setUid(Int64Value.newBuilder().setValue(Long.parseLong(name)));
    } else if (!name.isEmpty()) {
      image.setUsername(name);
    }
    return image.build();
  }

  private static void addOnce(List<String> present, String value,
      java.util.function.Consumer<String> add) {
    if (!present.contains(value)) {
      add.accept(value);
    }
  }
}
