package dev.jctr.metadata.store;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.identifiers.Identifiers;
import dev.jctr.api.identifiers.Labels;
import dev.jctr.api.proto.containerd.services.namespaces.v1.Namespace;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Namespaces and their labels. A namespace is also created implicitly by its first object. */
public final class NamespaceStore {

  private final MetadataDb db;

  public NamespaceStore(MetadataDb db) {
    this.db = db;
  }

  public Namespace create(Namespace namespace) {
    Namespace valid = validate(namespace);
    return db.write(tx -> {
      if (tx.get(Keys.namespace(valid.getName())).isPresent()) {
        throw new AlreadyExistsException("namespace \"" + valid.getName() + "\"");
      }
      tx.put(Keys.namespace(valid.getName()), valid.toByteArray());
      return valid;
    });
  }

  public Namespace get(String name) {
    Identifiers.validate("namespace", name);
    return db.read(tx -> tx.get(Keys.namespace(name)).map(NamespaceStore::parse)
        .orElseThrow(() -> new NotFoundException("namespace \"" + name + "\"")));
  }

  public List<Namespace> list() {
    return db.read(tx -> {
      List<Namespace> namespaces = new ArrayList<>();
      for (var entry : tx.scan(Keys.namespaces())) {
        namespaces.add(parse(entry.value()));
      }
      return namespaces;
    });
  }

  /** Updates labels: all of them without a mask, or the {@code labels[.<key>]} paths given. */
  public Namespace update(Namespace namespace, List<String> paths) {
    Identifiers.validate("namespace", namespace.getName());
    for (String path : paths) {
      if (!LabelUpdate.isLabelPath(path)) {
        throw new InvalidArgumentException("namespace \"" + namespace.getName()
            + "\": cannot update field \"" + path + "\"; only labels can change");
      }
    }
    return db.write(tx -> {
      Namespace current = tx.get(Keys.namespace(namespace.getName())).map(NamespaceStore::parse)
          .orElseThrow(() -> new NotFoundException("namespace \"" + namespace.getName() + "\""));
      Map<String, String> labels = namespace.getLabelsMap();
      if (!paths.isEmpty()) {
        labels = current.getLabelsMap();
        for (String path : paths) {
          labels = LabelUpdate.apply(labels, namespace.getLabelsMap(), path);
        }
      }
      Namespace updated = validate(current.toBuilder().clearLabels().putAllLabels(labels).build());
      tx.put(Keys.namespace(updated.getName()), updated.toByteArray());
      return updated;
    });
  }

  /** Deletes a namespace without images, containers, snapshots or blobs (leases go with it). */
  public void delete(String name) {
    Identifiers.validate("namespace", name);
    db.write(tx -> {
      if (tx.get(Keys.namespace(name)).isEmpty()) {
        throw new NotFoundException("namespace \"" + name + "\"");
      }
      List<String> holding = new ArrayList<>();
      if (tx.any(Keys.images(name))) {
        holding.add("images");
      }
      if (tx.any(Keys.containers(name))) {
        holding.add("containers");
      }
      if (tx.any(Keys.allSnapshots(name))) {
        holding.add("snapshots");
      }
      if (tx.any(Keys.blobs(name))) {
        holding.add("blobs");
      }
      if (!holding.isEmpty()) {
        throw new FailedPreconditionException("namespace \"" + name
            + "\" must be empty, but it still has " + String.join(", ", holding)
            + "; remove them first");
      }
      // as in containerd, leases do not keep a namespace alive: they go with it
      tx.deletePrefix(Keys.leases(name));
      tx.deletePrefix(Keys.allLeaseResources(name));
      tx.delete(Keys.namespace(name));
      return null;
    });
  }

  /** Creates {@code name} inside a write transaction when it does not exist yet. */
  static void ensure(MetadataDb.Tx tx, String name) {
    byte[] key = Keys.namespace(name);
    if (tx.get(key).isEmpty()) {
      tx.put(key, Namespace.newBuilder().setName(name).build().toByteArray());
    }
  }

  private static Namespace validate(Namespace namespace) {
    Identifiers.validate("namespace", namespace.getName());
    Labels.validate("namespace \"" + namespace.getName() + "\"", namespace.getLabelsMap());
    return namespace;
  }

  private static Namespace parse(byte[] value) {
    try {
      return Namespace.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt namespace record", e);
    }
  }
}
