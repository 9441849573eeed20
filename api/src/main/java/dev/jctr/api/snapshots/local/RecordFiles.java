package dev.jctr.api.snapshots.local;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Snapshot records on disk: one file per snapshot, {@code metadata/<id>}, each replaced
 * atomically (written beside, synced, renamed over, directory synced). Every change to a
 * snapshot rewrites only its own file, so a crash leaves each record either as it was or as it
 * became, never half-written.
 */
final class RecordFiles {

  private static final String PARTIAL = ".partial";

  private final Path dir;

  RecordFiles(Path dir) throws IOException {
    this.dir = Files.createDirectories(dir);
  }

  void write(SnapshotRecord record) throws IOException {
    Path target = dir.resolve(Long.toString(record.id()));
    Path partial = dir.resolve(record.id() + PARTIAL);
    try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      channel.write(java.nio.ByteBuffer.wrap(record.encode()));
      channel.force(true);
    }
    Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    syncDir();
  }

  void delete(long id) throws IOException {
    Files.deleteIfExists(dir.resolve(Long.toString(id)));
    syncDir();
  }

  /** Every complete record; partial files left by a crash are removed. */
  List<SnapshotRecord> readAll() throws IOException {
    List<SnapshotRecord> records = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        if (name.endsWith(PARTIAL)) {
          Files.delete(file);
        } else {
          try {
            records.add(SnapshotRecord.decode(Files.readAllBytes(file)));
          } catch (IOException e) {
            throw new IOException("snapshot record " + file + " is unreadable: "
                + e.getMessage(), e);
          }
        }
      }
    }
    return records;
  }

  private void syncDir() throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }
}
