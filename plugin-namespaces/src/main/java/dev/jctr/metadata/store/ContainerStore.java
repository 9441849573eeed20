package dev.jctr.metadata.store;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.filters.Fields;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.identifiers.Identifiers;
import dev.jctr.api.identifiers.Labels;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Containers, per namespace: metadata only (no task). The same id in two namespaces is two
 * containers; nothing here can reach across namespaces.
 */
public final class ContainerStore {

  private final MetadataDb db;

  public ContainerStore(MetadataDb db) {
    this.db = db;
  }

  public Container create(String namespace, Container container) {
    Identifiers.validate("namespace", namespace);
    Container valid = validate(container);
    return db.write(tx -> {
      byte[] key = Keys.container(namespace, valid.getId());
      if (tx.get(key).isPresent()) {
        throw new AlreadyExistsException(describe(namespace, valid.getId()));
      }
      NamespaceStore.ensure(tx, namespace);
      var now = Timestamps.now();
      Container created = valid.toBuilder().setCreatedAt(now).setUpdatedAt(now).build();
      tx.put(key, created.toByteArray());
      return created;
    });
  }

  public Container get(String namespace, String id) {
    Identifiers.validate("namespace", namespace);
    Identifiers.validate("container id", id);
    return db.read(tx -> tx.get(Keys.container(namespace, id)).map(ContainerStore::parse)
        .orElseThrow(() -> new NotFoundException(describe(namespace, id))));
  }

  /** The containers of {@code namespace} that match {@code filter}, ordered by id. */
  public List<Container> list(String namespace, Filter filter) {
    List<byte[]> encoded = listEncoded(namespace, filter);
    List<Container> containers = new ArrayList<>(encoded.size());
    for (byte[] record : encoded) {
      containers.add(parse(record));
    }
    return containers;
  }

  /**
   * The containers of {@code namespace} that match {@code filter}, ordered by id, as their
   * stored protobuf encoding, which is the wire encoding of {@link Container}: a listing can be
   * sent without decoding and encoding each container again. Records are decoded only to test
   * a filter.
   */
  public List<byte[]> listEncoded(String namespace, Filter filter) {
    Identifiers.validate("namespace", namespace);
    return db.read(tx -> {
      List<byte[]> records = new ArrayList<>();
      for (var entry : tx.scan(Keys.containers(namespace))) {
        if (filter.matchesAll() || filter.matches(fields(parse(entry.value())))) {
          records.add(entry.value());
        }
      }
      return records;
    });
  }

  /**
   * Updates a container. Without paths every mutable field is replaced; with paths only those
   * change ({@code labels}, {@code labels.<key>}, {@code spec}, {@code extensions},
   * {@code extensions.<key>}, {@code image}, {@code snapshotkey}, {@code sandbox}). Runtime and
   * snapshotter never change.
   */
  public Container update(String namespace, Container update, List<String> paths) {
    Identifiers.validate("namespace", namespace);
    Identifiers.validate("container id", update.getId());
    return db.write(tx -> {
      byte[] key = Keys.container(namespace, update.getId());
      Container current = tx.get(key).map(ContainerStore::parse)
          .orElseThrow(() -> new NotFoundException(describe(namespace, update.getId())));
      Container.Builder next = paths.isEmpty()
          ? replaceAll(namespace, current, update)
          : applyPaths(namespace, current, update, paths);
      Container updated = validate(next.setCreatedAt(current.getCreatedAt())
          .setUpdatedAt(Timestamps.now()).build());
      tx.put(key, updated.toByteArray());
      if (!updated.getSnapshotKey().equals(current.getSnapshotKey())
          || GcLabels.dropsReference(current.getLabelsMap(), updated.getLabelsMap())) {
        tx.leftGarbage();
      }
      return updated;
    });
  }

  public void delete(String namespace, String id) {
    Identifiers.validate("namespace", namespace);
    Identifiers.validate("container id", id);
    db.write(tx -> {
      if (!tx.delete(Keys.container(namespace, id))) {
        throw new NotFoundException(describe(namespace, id));
      }
      tx.leftGarbage();
      return null;
    });
  }

  /** The fields filters can name: id, image, runtime.name, snapshotter, labels.<key>. */
  static Fields fields(Container container) {
    Map<String, String> top = new HashMap<>();
    top.put("id", container.getId());
    top.put("image", container.getImage());
    top.put("snapshotter", container.getSnapshotter());
    top.put("sandbox", container.getSandbox());
    return path -> {
      if (path.size() == 2 && path.get(0).equals("runtime") && path.get(1).equals("name")) {
        return Optional.of(container.getRuntime().getName());
      }
      return Fields.of(top, container.getLabelsMap()).field(path);
    };
  }

  private static Container.Builder replaceAll(String namespace, Container current,
      Container update) {
    String owner = describe(namespace, current.getId());
    if (!update.getRuntime().getName().equals(current.getRuntime().getName())) {
      throw new InvalidArgumentException(owner + ": runtime is immutable");
    }
    if (!update.getSnapshotter().equals(current.getSnapshotter())) {
      throw new InvalidArgumentException(owner + ": snapshotter is immutable");
    }
    return update.toBuilder().setRuntime(current.getRuntime());
  }

  private static Container.Builder applyPaths(String namespace, Container current,
      Container update, List<String> paths) {
    Container.Builder next = current.toBuilder();
    for (String path : paths) {
      if (LabelUpdate.isLabelPath(path)) {
        Map<String, String> labels = LabelUpdate.apply(next.getLabelsMap(),
            update.getLabelsMap(), path);
        next.clearLabels().putAllLabels(labels);
      } else if (path.equals("extensions") || path.startsWith("extensions.")) {
        next.clearExtensions().putAllExtensions(extensions(next.getExtensionsMap(),
            update.getExtensionsMap(), path));
      } else {
        switch (path) {
          case "spec" -> next.setSpec(update.getSpec());
          case "image" -> next.setImage(update.getImage());
          case "snapshotkey", "snapshot_key" -> next.setSnapshotKey(update.getSnapshotKey());
          case "sandbox" -> next.setSandbox(update.getSandbox());
          default -> throw new InvalidArgumentException(describe(namespace, current.getId())
              + ": cannot update field \"" + path + "\"");
        }
      }
    }
    return next;
  }

  private static Map<String, Any> extensions(Map<String, Any> current, Map<String, Any> update,
      String path) {
    if (path.equals("extensions")) {
      return update;
    }
    String key = path.substring("extensions.".length());
    Map<String, Any> result = new HashMap<>(current);
    Any value = update.get(key);
    if (value == null) {
      result.remove(key);
    } else {
      result.put(key, value);
    }
    return result;
  }

  private static Container validate(Container container) {
    Identifiers.validate("container id", container.getId());
    String owner = "container \"" + container.getId() + "\"";
    Labels.validate(owner, container.getLabelsMap());
    if (container.getRuntime().getName().isEmpty()) {
      throw new InvalidArgumentException(owner + ": runtime name must be set");
    }
    if (!container.hasSpec()) {
      throw new InvalidArgumentException(owner + ": spec must be set");
    }
    if (!container.getSnapshotKey().isEmpty() && container.getSnapshotter().isEmpty()) {
      throw new InvalidArgumentException(owner + ": snapshotter must be set with snapshot_key");
    }
    for (String key : container.getExtensionsMap().keySet()) {
      if (key.isEmpty()) {
        throw new InvalidArgumentException(owner + ": extension key must not be empty");
      }
    }
    return container;
  }

  private static String describe(String namespace, String id) {
    return "container \"" + id + "\" in namespace \"" + namespace + "\"";
  }

  private static Container parse(byte[] value) {
    try {
      return Container.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt container record", e);
    }
  }
}
