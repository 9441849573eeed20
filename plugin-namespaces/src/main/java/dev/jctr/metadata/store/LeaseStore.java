package dev.jctr.metadata.store;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.errors.NotImplementedException;
import dev.jctr.api.filters.Fields;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.identifiers.Identifiers;
import dev.jctr.api.identifiers.Labels;
import dev.jctr.api.proto.containerd.services.leases.v1.Lease;
import dev.jctr.api.proto.containerd.services.leases.v1.Resource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Leases, per namespace, and the resources each one holds (content, ingests, images,
 * snapshots/&lt;snapshotter&gt;). Garbage collection treats them as roots.
 */
public final class LeaseStore {

  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  private final MetadataDb db;

  public LeaseStore(MetadataDb db) {
    this.db = db;
  }

  /**
   * Creates a lease. An empty id gets a random one, as containerd 1.6 does for {@code ctr leases
   * create} (its client leaves the id to the server).
   */
  public Lease create(String namespace, String requestedId, Map<String, String> labels) {
    Identifiers.validate("namespace", namespace);
    String id = requestedId.isEmpty() ? randomId() : requestedId;
    if (id.indexOf('\0') >= 0) {
      throw new InvalidArgumentException("lease \"" + id + "\": id must not contain NUL");
    }
    Labels.validate("lease \"" + id + "\"", labels);
    return db.write(tx -> {
      byte[] key = Keys.lease(namespace, id);
      if (tx.get(key).isPresent()) {
        throw new AlreadyExistsException(describe(namespace, id));
      }
      NamespaceStore.ensure(tx, namespace);
      Lease lease = Lease.newBuilder().setId(id).setCreatedAt(Timestamps.now())
          .putAllLabels(labels).build();
      tx.put(key, lease.toByteArray());
      return lease;
    });
  }

  public void delete(String namespace, String id) {
    Identifiers.validate("namespace", namespace);
    db.write(tx -> {
      if (!tx.delete(Keys.lease(namespace, id))) {
        throw new NotFoundException(describe(namespace, id));
      }
      tx.deletePrefix(Keys.leaseResources(namespace, id));
      tx.leftGarbage();
      return null;
    });
  }

  /** Deletes, in every namespace, the leases labelled {@code label}; returns how many. */
  public int deleteLabelled(String label) {
    return db.write(tx -> {
      int deleted = 0;
      for (var ns : tx.scan(Keys.namespaces())) {
        String namespace = Keys.last(ns.key());
        for (var entry : tx.scan(Keys.leases(namespace))) {
          Lease lease = parse(entry.value());
          if (lease.getLabelsMap().containsKey(label)) {
            tx.delete(entry.key());
            tx.deletePrefix(Keys.leaseResources(namespace, lease.getId()));
            deleted++;
          }
        }
      }
      if (deleted > 0) {
        tx.leftGarbage();
      }
      return deleted;
    });
  }

  public List<Lease> list(String namespace, Filter filter) {
    Identifiers.validate("namespace", namespace);
    return db.read(tx -> {
      List<Lease> leases = new ArrayList<>();
      for (var entry : tx.scan(Keys.leases(namespace))) {
        Lease lease = parse(entry.value());
        if (filter.matches(Fields.of(Map.of("id", lease.getId()), lease.getLabelsMap()))) {
          leases.add(lease);
        }
      }
      return leases;
    });
  }

  public void addResource(String namespace, String id, Resource resource) {
    validateResource(resource);
    db.write(tx -> {
      requireLease(tx, namespace, id);
      tx.put(Keys.leaseResource(namespace, id, resource.getType(), resource.getId()),
          new byte[0]);
      return null;
    });
  }

  public void deleteResource(String namespace, String id, Resource resource) {
    validateResource(resource);
    db.write(tx -> {
      requireLease(tx, namespace, id);
      if (tx.delete(Keys.leaseResource(namespace, id, resource.getType(), resource.getId()))) {
        tx.leftGarbage();
      }
      return null;
    });
  }

  public List<Resource> listResources(String namespace, String id) {
    return db.read(tx -> {
      requireLease(tx, namespace, id);
      List<Resource> resources = new ArrayList<>();
      for (var entry : tx.scan(Keys.leaseResources(namespace, id))) {
        String[] parts = Keys.components(entry.key()); // ns, lease, type, id
        resources.add(Resource.newBuilder().setType(parts[2]).setId(parts[3]).build());
      }
      return resources;
    });
  }

  /**
   * Adds a resource to {@code lease} inside a write already under way (a call's
   * {@code containerd-lease}); no lease ("") adds nothing.
   */
  static void attach(MetadataDb.Tx tx, String namespace, String lease, String type, String id) {
    if (lease.isEmpty()) {
      return;
    }
    requireLease(tx, namespace, lease);
    tx.put(Keys.leaseResource(namespace, lease, type, id), new byte[0]);
  }

  private static void requireLease(MetadataDb.Tx tx, String namespace, String id) {
    Identifiers.validate("namespace", namespace);
    if (tx.get(Keys.lease(namespace, id)).isEmpty()) {
      throw new NotFoundException(describe(namespace, id));
    }
  }

  /** containerd's resource types; anything else is not implemented. */
  private static void validateResource(Resource resource) {
    String type = resource.getType();
    boolean known = type.equals("content") || type.equals("ingests") || type.equals("images")
        || (type.startsWith("snapshots/") && type.length() > "snapshots/".length());
    if (!known) {
      throw new NotImplementedException("lease resource type \"" + type + "\"");
    }
    if (resource.getId().isEmpty() || resource.getId().indexOf('\0') >= 0) {
      throw new InvalidArgumentException("lease resource \"" + type + "\": id must be non-empty"
          + " and without NUL");
    }
  }

  /** containerd's random lease id shape: nanoseconds of the clock, then 3 random bytes. */
  private static String randomId() {
    byte[] random = new byte[3];
    RANDOM.nextBytes(random);
    return java.time.Instant.now().getNano() + "-"
        + java.util.Base64.getUrlEncoder().encodeToString(random);
  }

  private static String describe(String namespace, String id) {
    return "lease \"" + id + "\" in namespace \"" + namespace + "\"";
  }

  private static Lease parse(byte[] value) {
    try {
      return Lease.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt lease record", e);
    }
  }
}
