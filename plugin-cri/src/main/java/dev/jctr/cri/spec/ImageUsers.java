package dev.jctr.cri.spec;

import dev.jctr.api.errors.InvalidArgumentException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Resolves user and group names against the container's own {@code /etc/passwd} and
 * {@code /etc/group}, read from its snapshot's layers (the upper directory first, then the
 * lower ones, as overlayfs shows them) without mounting anything.
 */
public final class ImageUsers {

  /** uid, gid and the additional groups the user belongs to. */
  public record User(long uid, long gid, List<Long> additionalGids) {}

  private final List<Path> layers;

  /** @param layers the rootfs's directories, topmost first */
  public ImageUsers(List<Path> layers) {
    this.layers = layers;
  }

  /**
   * The user of {@code spec}: {@code uid}, {@code name}, {@code uid:gid}, {@code name:group};
   * a user found in /etc/passwd gets its primary group and /etc/group memberships.
   */
  public User resolve(String spec) {
    if (spec == null || spec.isEmpty()) {
      return withGroups(0, 0, "root");
    }
    String[] parts = spec.split(":", 2);
    long uid;
    long gid;
    String userName = null;
    if (parts[0].matches("\\d+")) {
      uid = Long.parseLong(parts[0]);
      String[] entry = passwd(e -> e.length > 2 && e[2].equals(parts[0])).orElse(null);
      gid = entry != null && entry.length > 3 && entry[3].matches("\\d+")
          ? Long.parseLong(entry[3]) : 0;
      userName = entry == null ? null : entry[0];
    } else {
      String[] entry = passwd(e -> e[0].equals(parts[0])).orElseThrow(() ->
          new InvalidArgumentException("user \"" + parts[0] + "\" is not in the image's"
              + " /etc/passwd; use a numeric uid"));
      uid = Long.parseLong(entry[2]);
      gid = Long.parseLong(entry[3]);
      userName = entry[0];
    }
    if (parts.length > 1) {
      if (parts[1].matches("\\d+")) {
        gid = Long.parseLong(parts[1]);
      } else {
        String[] group = group(e -> e[0].equals(parts[1])).orElseThrow(() ->
            new InvalidArgumentException("group \"" + parts[1] + "\" is not in the image's"
                + " /etc/group; use a numeric gid"));
        gid = Long.parseLong(group[2]);
      }
    }
    return withGroups(uid, gid, userName);
  }

  private User withGroups(long uid, long gid, String userName) {
    List<Long> groups = new ArrayList<>();
    if (userName != null) {
      for (String[] group : entries("etc/group")) {
        if (group.length > 3 && group[2].matches("\\d+")
            && List.of(group[3].split(",")).contains(userName)) {
          long id = Long.parseLong(group[2]);
          if (id != gid && !groups.contains(id)) {
            groups.add(id);
          }
        }
      }
    }
    return new User(uid, gid, groups);
  }

  private Optional<String[]> passwd(java.util.function.Predicate<String[]> match) {
    return entries("etc/passwd").stream().filter(e -> e.length > 3 && match.test(e))
        .findFirst();
  }

  private Optional<String[]> group(java.util.function.Predicate<String[]> match) {
    return entries("etc/group").stream().filter(e -> e.length > 2 && match.test(e))
        .findFirst();
  }

  private List<String[]> entries(String file) {
    for (Path layer : layers) {
      Path path = layer.resolve(file);
      if (Files.isRegularFile(path)) {
        try {
          return Files.readAllLines(path).stream().filter(l -> !l.startsWith("#"))
              .map(l -> l.split(":", -1)).toList();
        } catch (IOException e) {
          return List.of();
        }
      }
    }
    return List.of();
  }
}
