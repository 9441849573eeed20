package dev.jctr.itest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Test images built here, byte for byte: ustar layers, gzip, an OCI config, manifest, index,
 * and the OCI image layout as a tar, the form {@code ctr images import} reads.
 */
public final class OciArchive {

  /** A file for a layer or an archive: path, content, mode. */
  public record Entry(String path, byte[] content, int mode) {
    static Entry file(String path, String content) {
      return new Entry(path, content.getBytes(StandardCharsets.UTF_8), 0644);
    }
  }

  private OciArchive() {}

  static String sha256(byte[] data) {
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A tar of regular files, in order, with fixed owners and times (reproducible). */
  static byte[] tar(List<Entry> entries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Entry entry : entries) {
      byte[] header = new byte[512];
      put(header, 0, 100, entry.path());
      put(header, 100, 8, String.format("%07o", entry.mode()));
      put(header, 108, 8, "0000000");
      put(header, 116, 8, "0000000");
      put(header, 124, 12, String.format("%011o", entry.content().length));
      put(header, 136, 12, String.format("%011o", 1_700_000_000L));
      header[156] = entry.path().endsWith("/") ? (byte) '5' : (byte) '0';
      put(header, 257, 6, "ustar");
      put(header, 263, 2, "00");
      for (int i = 148; i < 156; i++) {
        header[i] = ' ';
      }
      long sum = 0;
      for (byte b : header) {
        sum += b & 0xff;
      }
      put(header, 148, 8, String.format("%06o", sum) + "\0 ");
      out.write(header);
      out.write(entry.content());
      out.write(new byte[(512 - entry.content().length % 512) % 512]);
    }
    out.write(new byte[1024]);
    return out.toByteArray();
  }

  private static void put(byte[] header, int at, int length, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(bytes, 0, header, at, Math.min(length, bytes.length));
  }

  static byte[] zstd(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (var zstd = new com.github.luben.zstd.ZstdOutputStream(out)) {
      zstd.write(data);
    }
    return out.toByteArray();
  }

  static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(data);
    }
    return out.toByteArray();
  }

  static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

  /**
   * An OCI image layout tar holding one linux/amd64 image named {@code name}, whose layers are
   * the given file lists (gzip-compressed). Returns the archive and the manifest's digest.
   */
  public static Built image(String name, List<List<Entry>> layers) throws IOException {
    return manifest(name, layers, "amd64", false, false);
  }

  /** The same image with zstd-compressed layers. */
  static Built zstdImage(String name, List<List<Entry>> layers) throws IOException {
    return manifest(name, layers, "amd64", false, true);
  }

  /** The same image with Docker's schema 2 media types (manifest, config, layers). */
  static Built dockerImage(String name, List<List<Entry>> layers) throws IOException {
    return manifest(name, layers, "amd64", true, false);
  }

  private static Built manifest(String name, List<List<Entry>> layers, String architecture,
      boolean docker, boolean zstd) throws IOException {
    Map<String, byte[]> blobs = new LinkedHashMap<>();
    List<String> diffIds = new ArrayList<>();
    StringBuilder layerJson = new StringBuilder();
    String layerType = docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
        : zstd ? "application/vnd.oci.image.layer.v1.tar+zstd"
        : "application/vnd.oci.image.layer.v1.tar+gzip";
    for (List<Entry> files : layers) {
      byte[] raw = tar(files);
      diffIds.add("\"" + sha256(raw) + "\"");
      byte[] compressed = zstd ? zstd(raw) : gzip(raw);
      String digest = sha256(compressed);
      blobs.put(digest, compressed);
      layerJson.append(layerJson.isEmpty() ? "" : ",")
          .append("{\"mediaType\":\"").append(layerType).append("\",\"digest\":\"")
          .append(digest).append("\",\"size\":").append(compressed.length).append('}');
    }
    byte[] config = ("{\"architecture\":\"" + architecture + "\",\"os\":\"linux\","
        + "\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
        + String.join(",", diffIds) + "]}}").getBytes(StandardCharsets.UTF_8);
    String configDigest = sha256(config);
    blobs.put(configDigest, config);
    String manifestType = docker ? DOCKER_MANIFEST : OCI_MANIFEST;
    String configType = docker ? "application/vnd.docker.container.image.v1+json"
        : "application/vnd.oci.image.config.v1+json";
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + manifestType
        + "\",\"config\":{\"mediaType\":\"" + configType + "\",\"digest\":\""
        + configDigest + "\",\"size\":" + config.length + "},\"layers\":[" + layerJson
        + "]}").getBytes(StandardCharsets.UTF_8);
    String manifestDigest = sha256(manifest);
    blobs.put(manifestDigest, manifest);
    byte[] index = ("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" + manifestType
        + "\",\"digest\":\"" + manifestDigest + "\",\"size\":" + manifest.length
        + ",\"annotations\":{\"io.containerd.image.name\":\"" + name
        + "\",\"org.opencontainers.image.ref.name\":\"latest\"},\"platform\":"
        + "{\"architecture\":\"" + architecture + "\",\"os\":\"linux\"}}]}")
        .getBytes(StandardCharsets.UTF_8);
    List<Entry> archive = new ArrayList<>();
    archive.add(Entry.file("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));
    archive.add(new Entry("index.json", index, 0644));
    blobs.forEach((digest, data) -> archive.add(new Entry("blobs/sha256/"
        + digest.substring("sha256:".length()), data, 0644)));
    return new Built(tar(archive), manifestDigest, manifest, manifestType, blobs, Map.of());
  }

  /**
   * A multi-platform image: one manifest per architecture (each with its own layers), under an
   * OCI index. For the registry only (its archive is empty).
   */
  static Built index(Map<String, List<List<Entry>>> layersByArchitecture) throws IOException {
    Map<String, byte[]> blobs = new LinkedHashMap<>();
    Map<String, String> children = new LinkedHashMap<>();
    StringBuilder entries = new StringBuilder();
    for (var arch : layersByArchitecture.entrySet()) {
      Built child = manifest("unused", arch.getValue(), arch.getKey(), false, false);
      blobs.putAll(child.blobs());
      children.put(child.manifestDigest(), child.manifestType());
      entries.append(entries.isEmpty() ? "" : ",").append("{\"mediaType\":\"")
          .append(OCI_MANIFEST).append("\",\"digest\":\"").append(child.manifestDigest())
          .append("\",\"size\":").append(child.manifest().length)
          .append(",\"platform\":{\"architecture\":\"").append(arch.getKey())
          .append("\",\"os\":\"linux\"}}");
    }
    byte[] index = ("{\"schemaVersion\":2,\"mediaType\":\"" + OCI_INDEX
        + "\",\"manifests\":[" + entries + "]}").getBytes(StandardCharsets.UTF_8);
    return new Built(new byte[0], sha256(index), index, OCI_INDEX, blobs, children);
  }

  /**
   * A built image: the OCI layout archive, and its parts as a registry holds them: the
   * top manifest (or index) and its type, every blob by digest (config, layers, manifests),
   * and for an index its child manifests by digest with their types.
   */
  public record Built(byte[] archive, String manifestDigest, byte[] manifest, String manifestType,
      Map<String, byte[]> blobs, Map<String, String> children) {}
}
