package dev.jctr.api.snapshots.local;

import dev.jctr.api.snapshots.Kind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One snapshot as stored: its directory id, key (or name once committed), kind, parent's id
 * (0 for none), labels, times, and the usage frozen at commit.
 */
record SnapshotRecord(long id, String key, Kind kind, long parentId, Map<String, String> labels,
    Instant created, Instant updated, long size, long inodes) {

  private static final int FORMAT = 1;

  SnapshotRecord {
    labels = Map.copyOf(labels);
  }

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(FORMAT);
      out.writeLong(id);
      out.writeUTF(key);
      out.writeByte(kind.wire());
      out.writeLong(parentId);
      out.writeLong(created.getEpochSecond());
      out.writeInt(created.getNano());
      out.writeLong(updated.getEpochSecond());
      out.writeInt(updated.getNano());
      out.writeLong(size);
      out.writeLong(inodes);
      out.writeInt(labels.size());
      for (Map.Entry<String, String> label : labels.entrySet()) {
        out.writeUTF(label.getKey());
        out.writeUTF(label.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static SnapshotRecord decode(byte[] bytes) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    int format = in.readInt();
    if (format != FORMAT) {
      throw new IOException("snapshot record format " + format + " is not " + FORMAT);
    }
    long id = in.readLong();
    String key = in.readUTF();
    Kind kind = kind(in.readByte());
    long parentId = in.readLong();
    Instant created = Instant.ofEpochSecond(in.readLong(), in.readInt());
    Instant updated = Instant.ofEpochSecond(in.readLong(), in.readInt());
    long size = in.readLong();
    long inodes = in.readLong();
    int count = in.readInt();
    Map<String, String> labels = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      labels.put(in.readUTF(), in.readUTF());
    }
    return new SnapshotRecord(id, key, kind, parentId, labels, created, updated, size, inodes);
  }

  private static Kind kind(int wire) throws IOException {
    for (Kind kind : Kind.values()) {
      if (kind.wire() == wire) {
        return kind;
      }
    }
    throw new IOException("unknown snapshot kind " + wire);
  }

  SnapshotRecord with(String newKey, Kind newKind, Map<String, String> newLabels,
      Instant now, long newSize, long newInodes) {
    return new SnapshotRecord(id, newKey, newKind, parentId, newLabels, created, now, newSize,
        newInodes);
  }
}
