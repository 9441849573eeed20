package dev.jctr.metadata.transfer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.jctr.api.content.Digests;
import dev.jctr.api.errors.InvalidArgumentException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reading OCI and Docker image JSON (indexes, manifests, configs), refusing what is not. */
public final class ImageJson {

  /** The largest manifest, index or config accepted: containerd's limit too. */
  public static final int MAX_MANIFEST = 4 * 1048 * 1048;

  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String DOCKER_LIST =
      "application/vnd.docker.distribution.manifest.list.v2+json";
  public static final String DOCKER_MANIFEST =
      "application/vnd.docker.distribution.manifest.v2+json";
  public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
  public static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";
  public static final String DOCKER_LAYER_GZIP =
      "application/vnd.docker.image.rootfs.diff.tar.gzip";

  public static final Map<String, String> INDEX_TYPES = Map.of(OCI_INDEX, "index",
      DOCKER_LIST, "index");

  private ImageJson() {}

  public static JsonObject parse(byte[] bytes, String what) {
    if (bytes.length > MAX_MANIFEST) {
      throw new InvalidArgumentException(what + " is " + bytes.length + " bytes, more than the "
          + MAX_MANIFEST + " allowed");
    }
    try {
      JsonElement parsed = JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8));
      if (!parsed.isJsonObject()) {
        throw new InvalidArgumentException(what + " is not a JSON object");
      }
      return parsed.getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw new InvalidArgumentException(what + " is not JSON: " + e.getMessage());
    }
  }

  /** The media type a manifest declares, or what its shape says. */
  public static String mediaType(JsonObject manifest, String fallback) {
    if (manifest.has("mediaType") && manifest.get("mediaType").isJsonPrimitive()) {
      return manifest.get("mediaType").getAsString();
    }
    if (manifest.has("manifests")) {
      return OCI_INDEX;
    }
    return fallback.isEmpty() ? OCI_MANIFEST : fallback;
  }

  public static JsonObject config(JsonObject manifest, String digest) {
    JsonObject config = object(manifest, "config");
    if (config == null) {
      throw new InvalidArgumentException("manifest " + digest + " has no config: not an image"
          + " manifest");
    }
    return config;
  }

  public static List<JsonObject> layers(JsonObject manifest, String digest) {
    return descriptors(manifest, "layers", "manifest " + digest);
  }

  public static List<JsonObject> manifests(JsonObject index, String digest) {
    return descriptors(index, "manifests", "index " + digest);
  }

  private static List<JsonObject> descriptors(JsonObject parent, String field, String what) {
    if (!parent.has(field) || !parent.get(field).isJsonArray()) {
      throw new InvalidArgumentException(what + " has no " + field);
    }
    List<JsonObject> list = new ArrayList<>();
    for (JsonElement element : parent.getAsJsonArray(field)) {
      if (!element.isJsonObject()) {
        throw new InvalidArgumentException(what + ": an entry of " + field
            + " is not a descriptor");
      }
      list.add(element.getAsJsonObject());
    }
    return list;
  }

  public static List<String> diffIds(JsonObject config, String digest) {
    JsonObject rootfs = object(config, "rootfs");
    if (rootfs == null || !rootfs.has("diff_ids") || !rootfs.get("diff_ids").isJsonArray()) {
      throw new InvalidArgumentException("config " + digest + " has no rootfs.diff_ids");
    }
    List<String> ids = new ArrayList<>();
    for (JsonElement id : rootfs.getAsJsonArray("diff_ids")) {
      ids.add(Digests.validate(id.getAsString()));
    }
    return ids;
  }

  /** A descriptor's digest, validated. */
  public static String digest(JsonObject descriptor) {
    return Digests.validate(text(descriptor, "digest"));
  }

  public static long size(JsonObject descriptor) {
    if (!descriptor.has("size") || !descriptor.get("size").isJsonPrimitive()) {
      throw new InvalidArgumentException("descriptor without size: " + descriptor);
    }
    long size = descriptor.get("size").getAsLong();
    if (size < 0) {
      throw new InvalidArgumentException("descriptor with a negative size: " + descriptor);
    }
    return size;
  }

  public static JsonObject object(JsonObject parent, String name) {
    return parent.has(name) && parent.get(name).isJsonObject()
        ? parent.getAsJsonObject(name) : null;
  }

  public static String text(JsonObject object, String name) {
    if (object == null || !object.has(name) || !object.get(name).isJsonPrimitive()) {
      throw new InvalidArgumentException("descriptor without " + name + ": " + object);
    }
    return object.get(name).getAsString();
  }

  /** An annotation of a descriptor, or "". */
  public static String annotation(JsonObject descriptor, String key) {
    JsonObject annotations = object(descriptor, "annotations");
    if (annotations == null || !annotations.has(key)
        || !annotations.get(key).isJsonPrimitive()) {
      return "";
    }
    return annotations.get(key).getAsString();
  }

  static JsonArray array(List<JsonObject> items) {
    JsonArray array = new JsonArray();
    items.forEach(array::add);
    return array;
  }
}
