package dev.jctr.diff.tar;

import dev.jctr.api.content.Digests;
import dev.jctr.api.diff.LayerDiffer;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.mount.Mounts;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * containerd's double-walking comparison: both trees are mounted read-only and walked; what
 * the upper one has that the lower lacks, or has with other metadata (type, mode, owner, size,
 * modification time, link target), goes into the tar with its parent directories; what only
 * the lower has becomes a {@code .wh.} whiteout.
 */
final class TreeDiffer implements LayerDiffer {

  @Override
  public Produced diff(List<Mount> lower, List<Mount> upper, String mediaType,
      OutputStream out) throws IOException {
    Path work = Files.createTempDirectory("jctr-diff-");
    Path lowerRoot = work.resolve("lower");
    Path upperRoot = work.resolve("upper");
    Files.createDirectories(lowerRoot);
    Files.createDirectories(upperRoot);
    boolean lowerMounted = false;
    boolean upperMounted = false;
    try {
      if (!lower.isEmpty()) {
        Mounts.mountAll(readOnly(lower), lowerRoot);
        lowerMounted = true;
      }
      Mounts.mountAll(readOnly(upper), upperRoot);
      upperMounted = true;
      MessageDigest digest = Digests.sha256();
      OutputStream compressed = compress(out, mediaType);
      CountingOutput counted = new CountingOutput(new DigestOutputStream(compressed, digest));
      TarArchiveOutputStream tar = new TarArchiveOutputStream(counted);
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      new Walk(lowerRoot, upperRoot, tar).run();
      tar.finish();
      tar.flush();
      compressed.flush();
      if (compressed != out) {
        compressed.close(); // ends the compressed stream; the caller's stream stays open
      }
      return new Produced(Digests.of(digest), counted.count);
    } finally {
      if (upperMounted) {
        Mounts.unmount(upperRoot);
      }
      if (lowerMounted) {
        Mounts.unmount(lowerRoot);
      }
      Files.deleteIfExists(upperRoot);
      Files.deleteIfExists(lowerRoot);
      Files.deleteIfExists(work);
    }
  }

  /** Each mount read-only: a diff never writes into a snapshot. */
  private static List<Mount> readOnly(List<Mount> mounts) {
    return mounts.stream().map(m -> m.options().contains("ro") ? m
        : new Mount(m.type(), m.source(), m.target(), Stream.concat(
            m.options().stream().filter(o -> !o.equals("rw")), Stream.of("ro")).toList()))
        .toList();
  }

  private static OutputStream compress(OutputStream out, String mediaType) throws IOException {
    OutputStream unclosable = new java.io.FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    };
    if (mediaType.endsWith("+gzip") || mediaType.endsWith(".gzip")) {
      return new GZIPOutputStream(unclosable, 1 << 16);
    }
    if (mediaType.endsWith("+zstd") || mediaType.endsWith(".zstd")) {
      return new ZstdOutputStream(unclosable);
    }
    if (mediaType.endsWith(".tar") || mediaType.endsWith("tar")) {
      return out;
    }
    throw new InvalidArgumentException("diff media type \"" + mediaType + "\" is not a tar,"
        + " tar+gzip or tar+zstd");
  }

  /** One comparison of two trees into a tar. */
  private static final class Walk {
    private final Path lower;
    private final Path upper;
    private final TarArchiveOutputStream tar;
    private final Set<String> written = new HashSet<>();
    private final Map<Object, String> links = new java.util.HashMap<>();

    Walk(Path lower, Path upper, TarArchiveOutputStream tar) {
      this.lower = lower;
      this.upper = upper;
      this.tar = tar;
    }

    void run() throws IOException {
      compare("");
    }

    /** Compares directory {@code relative} ("" for the root) of both trees. */
    private void compare(String relative) throws IOException {
      Set<String> names = new TreeSet<>(list(upper.resolve(relative)));
      Set<String> lowerNames = new TreeSet<>(list(lower.resolve(relative)));
      Set<String> all = new TreeSet<>(names);
      all.addAll(lowerNames);
      for (String name : all) {
        String path = relative.isEmpty() ? name : relative + "/" + name;
        Path up = upper.resolve(path);
        Path down = lower.resolve(path);
        if (!names.contains(name)) {
          whiteout(relative, name);
          continue;
        }
        boolean upperDir = Files.isDirectory(up, LinkOption.NOFOLLOW_LINKS);
        boolean existedAsDir = lowerNames.contains(name)
            && Files.isDirectory(down, LinkOption.NOFOLLOW_LINKS);
        if (!lowerNames.contains(name) || !same(up, down)) {
          entry(path, up);
        }
        if (upperDir) {
          if (existedAsDir) {
            compare(path);
          } else {
            addAll(path);
          }
        }
      }
    }

    /** Everything under a directory the lower tree did not have as one. */
    private void addAll(String relative) throws IOException {
      for (String name : new TreeSet<>(list(upper.resolve(relative)))) {
        String path = relative + "/" + name;
        Path up = upper.resolve(path);
        entry(path, up);
        if (Files.isDirectory(up, LinkOption.NOFOLLOW_LINKS)) {
          addAll(path);
        }
      }
    }

    private static List<String> list(Path dir) throws IOException {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        return List.of();
      }
      try (Stream<Path> entries = Files.list(dir)) {
        return entries.map(p -> p.getFileName().toString()).toList();
      }
    }

    private static boolean same(Path a, Path b) throws IOException {
      Map<String, Object> x = Files.readAttributes(a, "unix:mode,uid,gid,size,lastModifiedTime,"
          + "rdev", LinkOption.NOFOLLOW_LINKS);
      Map<String, Object> y = Files.readAttributes(b, "unix:mode,uid,gid,size,lastModifiedTime,"
          + "rdev", LinkOption.NOFOLLOW_LINKS);
      if (!x.equals(y)) {
        return false;
      }
      if (Files.isSymbolicLink(a)) {
        return Files.readSymbolicLink(a).equals(Files.readSymbolicLink(b));
      }
      return true;
    }

    private void whiteout(String relative, String name) throws IOException {
      parents(relative);
      String path = (relative.isEmpty() ? "" : relative + "/") + ".wh." + name;
      TarArchiveEntry entry = new TarArchiveEntry(path);
      entry.setSize(0);
      entry.setModTime(0);
      tar.putArchiveEntry(entry);
      tar.closeArchiveEntry();
    }

    /** The parents of {@code relative}, each once, so that extraction recreates them. */
    private void parents(String relative) throws IOException {
      if (relative.isEmpty() || written.contains(relative)) {
        return;
      }
      int slash = relative.lastIndexOf('/');
      parents(slash < 0 ? "" : relative.substring(0, slash));
      entry(relative, upper.resolve(relative));
    }

    private void entry(String relative, Path file) throws IOException {
      if (!written.add(relative)) {
        return;
      }
      int slash = relative.lastIndexOf('/');
      parents(slash < 0 ? "" : relative.substring(0, slash));
      Map<String, Object> attributes = Files.readAttributes(file,
          "unix:mode,uid,gid,size,lastModifiedTime,rdev,ino,dev,nlink",
          LinkOption.NOFOLLOW_LINKS);
      int mode = (Integer) attributes.get("mode");
      int type = mode & 0170000;
      TarArchiveEntry entry;
      Path regular = null;
      if (type == 0040000) {
        entry = new TarArchiveEntry(relative + "/");
      } else if (type == 0120000) {
        entry = new TarArchiveEntry(relative, TarConstants.LF_SYMLINK);
        entry.setLinkName(Files.readSymbolicLink(file).toString());
      } else if (type == 0100000) {
        Object key = List.of(attributes.get("dev"), attributes.get("ino"));
        String first = (Integer) attributes.get("nlink") > 1 ? links.putIfAbsent(key, relative)
            : null;
        if (first != null) {
          entry = new TarArchiveEntry(relative, TarConstants.LF_LINK);
          entry.setLinkName(first);
        } else {
          entry = new TarArchiveEntry(relative);
          entry.setSize((Long) attributes.get("size"));
          regular = file;
        }
      } else if (type == 0020000 || type == 0060000) {
        entry = new TarArchiveEntry(relative, type == 0020000 ? TarConstants.LF_CHR
            : TarConstants.LF_BLK);
        long rdev = (Long) attributes.get("rdev");
        entry.setDevMajor((int) ((rdev >> 8) & 0xfff));
        entry.setDevMinor((int) ((rdev & 0xff) | ((rdev >> 12) & 0xfff00)));
      } else if (type == 0010000) {
        entry = new TarArchiveEntry(relative, TarConstants.LF_FIFO);
      } else {
        return; // sockets have no place in a layer
      }
      entry.setMode(mode & 07777);
      entry.setUserId((Integer) attributes.get("uid"));
      entry.setGroupId((Integer) attributes.get("gid"));
      entry.setModTime(((FileTime) attributes.get("lastModifiedTime")).toMillis());
      tar.putArchiveEntry(entry);
      if (regular != null) {
        try (InputStream in = Files.newInputStream(regular)) {
          in.transferTo(tar);
        }
      }
      tar.closeArchiveEntry();
    }
  }

  /** Counts what goes through it. */
  private static final class CountingOutput extends java.io.FilterOutputStream {
    long count;

    CountingOutput(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }
}
