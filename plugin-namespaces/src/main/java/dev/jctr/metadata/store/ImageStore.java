package dev.jctr.metadata.store;

import dev.jctr.api.content.Digests;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.filters.Fields;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.identifiers.Identifiers;
import dev.jctr.api.identifiers.Labels;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.types.Descriptor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Images per namespace: a name pointing at a target descriptor, with labels. */
public final class ImageStore {

  private final MetadataDb db;

  public ImageStore(MetadataDb db) {
    this.db = db;
  }

  public Image get(String namespace, String name) {
    validateName(namespace, name);
    return db.read(tx -> tx.get(Keys.image(namespace, name)).map(ImageStore::parse))
        .orElseThrow(() -> new NotFoundException(describe(namespace, name)));
  }

  public Image create(String namespace, Image image) {
    validateName(namespace, image.getName());
    validate(image);
    return db.write(tx -> {
      byte[] key = Keys.image(namespace, image.getName());
      if (tx.get(key).isPresent()) {
        throw new AlreadyExistsException(describe(namespace, image.getName()));
      }
      NamespaceStore.ensure(tx, namespace);
      var now = Timestamps.now();
      Image created = image.toBuilder().setCreatedAt(now).setUpdatedAt(now).build();
      tx.put(key, created.toByteArray());
      return created;
    });
  }

  /**
   * Updates an image: with no paths, labels and target are replaced; otherwise the paths
   * {@code labels}, {@code labels.<key>}, {@code target}, {@code annotations},
   * {@code annotations.<key>} (the target's annotations).
   */
  public Image update(String namespace, Image update, List<String> paths) {
    validateName(namespace, update.getName());
    return db.write(tx -> {
      byte[] key = Keys.image(namespace, update.getName());
      Image current = tx.get(key).map(ImageStore::parse)
          .orElseThrow(() -> new NotFoundException(describe(namespace, update.getName())));
      Image.Builder next = current.toBuilder();
      if (paths.isEmpty()) {
        next.clearLabels().putAllLabels(update.getLabelsMap()).setTarget(update.getTarget());
      }
      for (String path : paths) {
        if (LabelUpdate.isLabelPath(path)) {
          next.clearLabels().putAllLabels(LabelUpdate.apply(current.getLabelsMap(),
              update.getLabelsMap(), path));
        } else if (path.equals("target")) {
          next.setTarget(update.getTarget());
        } else if (path.equals("annotations") || path.startsWith("annotations.")) {
          Map<String, String> annotations = new HashMap<>(next.getTarget().getAnnotationsMap());
          if (path.equals("annotations")) {
            annotations = new HashMap<>(update.getTarget().getAnnotationsMap());
          } else {
            String name = path.substring("annotations.".length());
            String value = update.getTarget().getAnnotationsMap().get(name);
            if (value == null) {
              annotations.remove(name);
            } else {
              annotations.put(name, value);
            }
          }
          next.setTarget(next.getTarget().toBuilder().clearAnnotations()
              .putAllAnnotations(annotations));
        } else {
          throw new InvalidArgumentException(describe(namespace, update.getName())
              + ": cannot update field \"" + path + "\"");
        }
      }
      Image updated = next.setUpdatedAt(Timestamps.now()).build();
      validate(updated);
      tx.put(key, updated.toByteArray());
      if (!updated.getTarget().getDigest().equals(current.getTarget().getDigest())
          || GcLabels.dropsReference(current.getLabelsMap(), updated.getLabelsMap())) {
        tx.leftGarbage();
      }
      return updated;
    });
  }

  /** Deletes an image; with {@code target}, only while it still points there. */
  public void delete(String namespace, String name, Optional<Descriptor> target) {
    validateName(namespace, name);
    db.write(tx -> {
      byte[] key = Keys.image(namespace, name);
      Image current = tx.get(key).map(ImageStore::parse)
          .orElseThrow(() -> new NotFoundException(describe(namespace, name)));
      if (target.isPresent()
          && !target.get().getDigest().equals(current.getTarget().getDigest())) {
        throw new NotFoundException(describe(namespace, name) + " pointing at "
            + target.get().getDigest());
      }
      tx.delete(key);
      tx.leftGarbage();
      return null;
    });
  }

  public List<Image> list(String namespace, Filter filter) {
    Identifiers.validate("namespace", namespace);
    return db.read(tx -> {
      List<Image> images = new ArrayList<>();
      for (var entry : tx.scan(Keys.images(namespace))) {
        Image image = parse(entry.value());
        if (filter.matchesAll() || filter.matches(fields(image))) {
          images.add(image);
        }
      }
      return images;
    });
  }

  /** name, target.digest, target.mediatype, labels.&lt;k&gt;, annotations.&lt;k&gt;. */
  private static Fields fields(Image image) {
    Map<String, String> top = Map.of("name", image.getName());
    Fields labels = Fields.of(top, image.getLabelsMap());
    return path -> {
      if (path.size() == 2 && path.get(0).equals("target")) {
        return switch (path.get(1)) {
          case "digest" -> Optional.of(image.getTarget().getDigest());
          case "mediatype" -> Optional.of(image.getTarget().getMediaType());
          default -> Optional.empty();
        };
      }
      if (path.size() >= 2 && path.get(0).equals("annotations")) {
        return Optional.ofNullable(image.getTarget().getAnnotationsMap()
            .get(String.join(".", path.subList(1, path.size()))));
      }
      return labels.field(path);
    };
  }

  private static void validateName(String namespace, String name) {
    Identifiers.validate("namespace", namespace);
    if (name == null || name.isEmpty()) {
      throw new InvalidArgumentException("image name must not be empty");
    }
    if (name.indexOf('\0') >= 0) {
      throw new InvalidArgumentException("image name must not contain NUL");
    }
  }

  private static void validate(Image image) {
    String owner = "image \"" + image.getName() + "\"";
    Labels.validate(owner, image.getLabelsMap());
    if (!image.hasTarget()) {
      throw new InvalidArgumentException(owner + ": target must be set");
    }
    try {
      Digests.validate(image.getTarget().getDigest());
    } catch (InvalidArgumentException e) {
      throw new InvalidArgumentException(owner + ": target " + e.getMessage());
    }
    if (image.getTarget().getMediaType().isEmpty()) {
      throw new InvalidArgumentException(owner + ": target media type must be set");
    }
    if (image.getTarget().getSize() < 0) {
      throw new InvalidArgumentException(owner + ": target size must not be negative");
    }
  }

  private static String describe(String namespace, String name) {
    return "image \"" + name + "\" in namespace \"" + namespace + "\"";
  }

  private static Image parse(byte[] value) {
    try {
      return Image.parseFrom(value);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt image record", e);
    }
  }
}
