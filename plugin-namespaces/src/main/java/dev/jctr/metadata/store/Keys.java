package dev.jctr.metadata.store;

import java.nio.charset.StandardCharsets;

/**
 * The database's key layout: a kind byte, then components separated by NUL, so that every
 * object of one kind in one namespace shares a prefix. Identifiers never contain NUL.
 *
 * <pre>
 *   schema                          -> schema version
 *   n \0 ns                         -> Namespace (labels); the namespace exists iff present
 *   c \0 ns \0 id                   -> Container
 *   l \0 ns \0 id                   -> Lease
 *   r \0 ns \0 lease \0 type \0 id  -> (empty) a resource held by a lease
 *   s \0 ns \0 snapshotter \0 key    -> SnapshotRef: backend key and Info
 *   sequence                        -> the last number used in backend snapshot keys
 *   b \0 ns \0 digest               -> content Info (size, times, labels) seen in ns
 *   bd \0 digest \0 ns              -> (empty) which namespaces hold a blob
 *   i \0 ns \0 name                 -> Image
 * </pre>
 */
final class Keys {

  static final byte[] SCHEMA = bytes("schema");
  private static final char SEPARATOR = '\0';

  private Keys() {}

  static byte[] namespace(String namespace) {
    return join("n", namespace);
  }

  static byte[] namespaces() {
    return join("n", "");
  }

  static byte[] container(String namespace, String id) {
    return join("c", namespace, id);
  }

  static byte[] containers(String namespace) {
    return join("c", namespace, "");
  }

  static byte[] lease(String namespace, String id) {
    return join("l", namespace, id);
  }

  static byte[] leases(String namespace) {
    return join("l", namespace, "");
  }

  static byte[] leaseResource(String namespace, String lease, String type, String id) {
    return join("r", namespace, lease, type, id);
  }

  static byte[] leaseResources(String namespace, String lease) {
    return join("r", namespace, lease, "");
  }

  static byte[] allLeaseResources(String namespace) {
    return join("r", namespace, "");
  }

  static final byte[] SEQUENCE = bytes("sequence");

  static byte[] snapshot(String namespace, String snapshotter, String key) {
    return join("s", namespace, snapshotter, key);
  }

  static byte[] snapshots(String namespace, String snapshotter) {
    return join("s", namespace, snapshotter, "");
  }

  static byte[] allSnapshots(String namespace) {
    return join("s", namespace, "");
  }

  static byte[] blob(String namespace, String digest) {
    return join("b", namespace, digest);
  }

  static byte[] blobs(String namespace) {
    return join("b", namespace, "");
  }

  static byte[] blobHolder(String digest, String namespace) {
    return join("bd", digest, namespace);
  }

  static byte[] allBlobHolders() {
    return bytes("bd" + SEPARATOR);
  }

  static byte[] blobHolders(String digest) {
    return join("bd", digest, "");
  }

  static byte[] image(String namespace, String name) {
    return join("i", namespace, name);
  }

  static byte[] images(String namespace) {
    return join("i", namespace, "");
  }

  /** The last component of a key. */
  static String last(byte[] key) {
    String text = new String(key, StandardCharsets.UTF_8);
    return text.substring(text.lastIndexOf(SEPARATOR) + 1);
  }

  /** The components after the kind. */
  static String[] components(byte[] key) {
    String text = new String(key, StandardCharsets.UTF_8);
    return text.substring(text.indexOf(SEPARATOR) + 1).split(String.valueOf(SEPARATOR), -1);
  }

  private static byte[] join(String kind, String... components) {
    StringBuilder key = new StringBuilder(kind);
    for (String component : components) {
      key.append(SEPARATOR).append(component);
    }
    return bytes(key.toString());
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
