package dev.jctr.tasks.shim;

import dev.jctr.api.errors.FailedPreconditionException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A task's bundle directory, {@code <state>/io.containerd.runtime.v2.task/<ns>/<id>/}: the
 * OCI {@code config.json}, an empty {@code rootfs} the shim mounts onto, the shim's
 * {@code address}, and {@code jctr-runtime} (the runtime name and shim binary; the runc shim
 * owns a file called {@code runtime}), which is what a restarted daemon needs to find the shim
 * again or clean up after it.
 */
public record Bundle(String namespace, String id, Path dir) {

  private static final Logger LOG = System.getLogger(Bundle.class.getName());

  public static Bundle of(Path tasksDir, String namespace, String id) {
    return new Bundle(namespace, id, tasksDir.resolve(namespace).resolve(id));
  }

  /** Creates the directory with config.json and rootfs, replacing a stale one. */
  public static Bundle create(Path tasksDir, String namespace, String id, byte[] spec,
      ShimBinary shim) {
    Bundle bundle = of(tasksDir, namespace, id);
    try {
      if (Files.exists(bundle.dir())) {
        bundle.remove();
      }
      Files.createDirectories(bundle.dir().resolve("rootfs"));
      Files.write(bundle.dir().resolve("config.json"), spec);
      Files.writeString(bundle.dir().resolve("jctr-runtime"), shim.runtime() + "\n" + shim.binary()
          + "\n");
      return bundle;
    } catch (IOException e) {
      bundle.remove();
      throw new UncheckedIOException("task bundle " + bundle.dir() + ": " + e.getMessage(), e);
    }
  }

  /** Every bundle under {@code tasksDir}, for restore. */
  public static List<Bundle> all(Path tasksDir) {
    List<Bundle> found = new ArrayList<>();
    if (!Files.isDirectory(tasksDir)) {
      return found;
    }
    try (Stream<Path> namespaces = Files.list(tasksDir)) {
      for (Path ns : namespaces.filter(Files::isDirectory).toList()) {
        try (Stream<Path> ids = Files.list(ns)) {
          ids.filter(Files::isDirectory).forEach(dir -> found.add(new Bundle(
              ns.getFileName().toString(), dir.getFileName().toString(), dir)));
        }
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, "listing task bundles in " + tasksDir + ": " + e.getMessage());
    }
    return found;
  }

  public Path rootfs() {
    return dir.resolve("rootfs");
  }

  public void writeAddress(String address) {
    try {
      Files.writeString(dir.resolve("address"), address);
    } catch (IOException e) {
      throw new UncheckedIOException("task bundle " + dir + ": " + e.getMessage(), e);
    }
  }

  public Optional<String> address() {
    return read("address").map(String::strip).filter(s -> !s.isEmpty());
  }

  /** The runtime name and binary recorded at create. */
  public Optional<ShimBinary> shim() {
    return read("jctr-runtime").map(text -> text.split("\n")).filter(lines -> lines.length >= 2)
        .map(lines -> new ShimBinary(lines[0], Path.of(lines[1])));
  }

  private Optional<String> read(String name) {
    try {
      return Optional.of(Files.readString(dir.resolve(name), StandardCharsets.UTF_8));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Removes the directory: unmounts whatever is still mounted at or under rootfs (the shim
   * normally did), wakes a log reader still waiting on the fifo, deletes the files, and the
   * namespace directory when it is empty.
   */
  public void remove() {
    if (!isEmptyDirectory(rootfs())) {
      // still mounted (the shim died before unmounting): what is mounted comes off first, so
      // that deleting the bundle never reaches into a snapshot
      unmountRootfs();
    }
    Path log = dir.resolve("log");
    if (Files.exists(log)) {
      try (RandomAccessFile wake = new RandomAccessFile(log.toFile(), "rw")) {
        // opening read-write never blocks; a reader stuck in open() now sees end of file
      } catch (IOException e) {
        // nobody is waiting
      }
    }
    try {
      deleteTree();
    } catch (java.nio.file.FileSystemException e) {
      // an empty filesystem mounted on rootfs (busy): unmount, then delete again
      unmountRootfs();
      deleteQuietly();
    } catch (IOException e) {
      throw new FailedPreconditionException("removing task bundle " + dir + ": "
          + e.getMessage());
    }
    try {
      Files.deleteIfExists(dir.getParent());
    } catch (IOException e) {
      // other tasks of the namespace remain
    }
  }

  private void deleteTree() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // already gone
    }
  }

  private void deleteQuietly() {
    try {
      deleteTree();
    } catch (IOException e) {
      throw new FailedPreconditionException("removing task bundle " + dir + ": "
          + e.getMessage());
    }
  }

  /**
   * An unmounted rootfs is the empty directory the bundle was made with: checking that is one
   * directory read, where the mount table of a node with many pods is hundreds of lines.
   */
  private static boolean isEmptyDirectory(Path path) {
    if (!Files.isDirectory(path)) {
      return true;
    }
    try (Stream<Path> entries = Files.list(path)) {
      return entries.findAny().isEmpty();
    } catch (IOException e) {
      return false;
    }
  }

  private void unmountRootfs() {
    String target = rootfs().toString();
    try {
      List<String> mounted = new ArrayList<>();
      for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
        String[] fields = line.split(" ");
        if (fields.length > 1) {
          String point = fields[1].replace("\\040", " ");
          if (point.equals(target) || point.startsWith(target + "/")) {
            mounted.add(point);
          }
        }
      }
      mounted.sort(Comparator.comparing(String::length).reversed());
      for (String point : mounted) {
        Commands.run(List.of("umount", point));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("unmounting " + target + ": " + e.getMessage(), e);
    }
  }
}
