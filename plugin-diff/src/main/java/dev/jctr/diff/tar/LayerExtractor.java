package dev.jctr.diff.tar;

import dev.jctr.api.errors.InvalidArgumentException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Extracts one layer tar into a directory, keeping owners, modes, times, links, device nodes and
 * extended attributes. Two ways: onto an overlay upper directory, where OCI whiteouts become
 * overlay's own (a 0/0 character device for {@code .wh.<name>}, {@code trusted.overlay.opaque=y}
 * for {@code .wh..wh..opq}) and the lower directories are consulted for parents; or onto a
 * plain directory, where whiteouts remove what they name.
 *
 * <p>Every path is resolved inside the root: entry names with {@code ..} or a leading {@code /},
 * symlinks on the way that lead out of the root, and hard links to outside are refused, before
 * anything is written for that entry.
 */
final class LayerExtractor {

  static final String WHITEOUT = ".wh.";
  static final String OPAQUE = ".wh..wh..opq";
  private static final int MAX_SYMLINKS = 255;

  private final Path root;
  private final List<Path> lowers;
  private final boolean overlay;
  private final Map<Path, FileTime> directoryTimes = new LinkedHashMap<>();

  /**
   * @param root where files land: an overlay upper directory or a plain directory
   * @param lowers for an overlay upper, the lower directories nearest first; else empty
   * @param overlay whether whiteouts become overlay whiteouts
   */
  LayerExtractor(Path root, List<Path> lowers, boolean overlay) {
    this.root = root;
    this.lowers = lowers;
    this.overlay = overlay;
  }

  void extract(InputStream tar) throws IOException {
    TarArchiveInputStream entries = new TarArchiveInputStream(tar, StandardCharsets.UTF_8.name());
    TarArchiveEntry entry;
    while ((entry = entries.getNextEntry()) != null) {
      apply(entry, entries);
    }
    // directory times last: creating their contents changed them
    for (var dir : directoryTimes.entrySet()) {
      Files.setLastModifiedTime(dir.getKey(), dir.getValue());
    }
  }

  private void apply(TarArchiveEntry entry, InputStream data) throws IOException {
    List<String> parts = clean(entry.getName());
    if (parts.isEmpty()) {
      return; // the root itself
    }
    String base = parts.get(parts.size() - 1);
    Path parent = resolveDirectory(parts.subList(0, parts.size() - 1), entry.getName());
    if (base.equals(OPAQUE)) {
      opaque(parent);
      return;
    }
    if (base.startsWith(WHITEOUT)) {
      whiteout(parent.resolve(base.substring(WHITEOUT.length())), entry.getName());
      return;
    }
    Path target = parent.resolve(base);
    if (entry.isDirectory()) {
      if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
        attributes(target, entry);
      } else {
        removeAny(target);
        Files.createDirectory(target);
        attributes(target, entry);
      }
      directoryTimes.put(target, FileTime.from(entry.getModTime().toInstant()));
      return;
    }
    removeAny(target);
    if (entry.isSymbolicLink()) {
      Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
    } else if (entry.isLink()) {
      Path source = hardLinkSource(entry);
      Files.createLink(target, source);
      return; // a hard link shares its source's attributes
    } else if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
      String type = entry.isFIFO() ? "p" : entry.isCharacterDevice() ? "c" : "b";
      List<String> command = new ArrayList<>(List.of("mknod", target.toString(), type));
      if (!entry.isFIFO()) {
        command.add(Integer.toString(entry.getDevMajor()));
        command.add(Integer.toString(entry.getDevMinor()));
      }
      Native.run(command, "create " + entry.getName());
    } else if (entry.isFile()) {
      Files.copy(data, target);
    } else {
      return; // other types (sparse markers, volume labels) carry no file
    }
    attributes(target, entry);
    Files.getFileAttributeView(target,
        java.nio.file.attribute.BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
        .setTimes(FileTime.from(entry.getModTime().toInstant()), null, null);
  }

  /** Owner, mode (not for symlinks) and extended attributes. */
  private void attributes(Path target, TarArchiveEntry entry) throws IOException {
    Files.setAttribute(target, "unix:uid", (int) entry.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(target, "unix:gid", (int) entry.getLongGroupId(),
        LinkOption.NOFOLLOW_LINKS);
    if (!entry.isSymbolicLink()) {
      Files.setAttribute(target, "unix:mode", entry.getMode() & 07777);
    }
    for (var header : entry.getExtraPaxHeaders().entrySet()) {
      if (header.getKey().startsWith("SCHILY.xattr.")) {
        Native.setXattr(target, header.getKey().substring("SCHILY.xattr.".length()),
            header.getValue());
      }
    }
  }

  private void whiteout(Path target, String name) throws IOException {
    removeAny(target);
    if (overlay) {
      Native.run(List.of("mknod", target.toString(), "c", "0", "0"), "whiteout " + name);
    }
  }

  private void opaque(Path dir) throws IOException {
    if (overlay) {
      Native.setXattr(dir, "trusted.overlay.opaque", "y");
    } else {
      try (var children = Files.list(dir)) {
        for (Path child : children.toList()) {
          removeAny(child);
        }
      }
    }
  }

  private Path hardLinkSource(TarArchiveEntry entry) throws IOException {
    List<String> parts = clean(entry.getLinkName());
    if (parts.isEmpty()) {
      throw refuse(entry.getName(), "hard link to the root");
    }
    Path dir = resolveDirectory(parts.subList(0, parts.size() - 1), entry.getName());
    Path source = dir.resolve(parts.get(parts.size() - 1));
    if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
      Path lower = findInLowers(root.relativize(source));
      if (lower == null) {
        throw refuse(entry.getName(), "hard link to \"" + entry.getLinkName()
            + "\", which is not in the layer or below it");
      }
      Files.copy(lower, source, StandardCopyOption.COPY_ATTRIBUTES,
          LinkOption.NOFOLLOW_LINKS); // copied up, so that the link stays in this layer
    }
    if (Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
      throw refuse(entry.getName(), "hard link to a directory");
    }
    return source;
  }

  /**
   * The directory {@code parts} names under the root, created (with the lower layers' modes)
   * where missing; symlinks on the way are followed inside the root.
   */
  private Path resolveDirectory(List<String> parts, String entry) throws IOException {
    Deque<String> pending = new ArrayDeque<>(parts);
    List<String> resolved = new ArrayList<>();
    int hops = 0;
    while (!pending.isEmpty()) {
      String part = pending.removeFirst();
      Path relative = resolved.isEmpty() ? Path.of(part)
          : Path.of(String.join("/", resolved)).resolve(part);
      Path here = root.resolve(relative);
      Path link = Files.isSymbolicLink(here) ? here
          : !Files.exists(here, LinkOption.NOFOLLOW_LINKS) ? symlinkInLowers(relative) : null;
      if (link != null) {
        if (++hops > MAX_SYMLINKS) {
          throw refuse(entry, "too many symlinks on its path");
        }
        String target = Files.readSymbolicLink(link).toString();
        List<String> rest = new ArrayList<>(pending);
        pending.clear();
        if (target.startsWith("/")) {
          resolved.clear();
        }
        for (String step : target.split("/")) {
          if (step.isEmpty() || step.equals(".")) {
            continue;
          }
          if (step.equals("..")) {
            if (resolved.isEmpty()) {
              throw refuse(entry, "symlink \"" + part + "\" -> \"" + target
                  + "\" leads out of the layer's root");
            }
            resolved.remove(resolved.size() - 1);
          } else {
            pending.addLast(step);
          }
        }
        pending.addAll(rest);
        continue;
      }
      if (!Files.exists(here, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectory(here);
        Path lower = findInLowers(relative);
        if (lower != null && Files.isDirectory(lower)) {
          Files.setAttribute(here, "unix:mode", Files.getAttribute(lower, "unix:mode"));
          Files.setAttribute(here, "unix:uid", Files.getAttribute(lower, "unix:uid"));
          Files.setAttribute(here, "unix:gid", Files.getAttribute(lower, "unix:gid"));
        }
      } else if (!Files.isDirectory(here, LinkOption.NOFOLLOW_LINKS)) {
        throw refuse(entry, "\"" + relative + "\" on its path is not a directory");
      }
      resolved.add(part);
    }
    return resolved.isEmpty() ? root : root.resolve(String.join("/", resolved));
  }

  private Path symlinkInLowers(Path relative) {
    Path lower = findInLowers(relative);
    return lower != null && Files.isSymbolicLink(lower) ? lower : null;
  }

  private Path findInLowers(Path relative) {
    for (Path lower : lowers) {
      Path candidate = lower.resolve(relative);
      if (Files.exists(candidate, LinkOption.NOFOLLOW_LINKS)) {
        return candidate;
      }
    }
    return null;
  }

  /** The components of a name in a tar, refused when absolute or climbing. */
  static List<String> clean(String name) {
    if (name.startsWith("/")) {
      throw refuse(name, "absolute path");
    }
    List<String> parts = new ArrayList<>();
    for (String part : name.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        throw refuse(name, "\"..\" in its path");
      }
      if (part.indexOf('\0') >= 0) {
        throw refuse(name, "NUL in its path");
      }
      parts.add(part);
    }
    return parts;
  }

  private static InvalidArgumentException refuse(String entry, String why) {
    return new InvalidArgumentException("layer entry \"" + entry + "\" refused: " + why);
  }

  private static void removeAny(Path target) throws IOException {
    if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      try (var walk = Files.walk(target)) {
        for (Path path : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(path);
        }
      }
    } else {
      Files.delete(target);
    }
  }
}
