package dev.jctr.kernel.introspection;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The server's stable UUID (created once, kept under root) and its pid namespace. */
final class ServerIdentity {

  private static final Pattern NS_INODE = Pattern.compile("\\[(\\d+)]");

  private ServerIdentity() {}

  /** Reads {@code file}, or creates it atomically with a new random UUID. */
  static synchronized String uuid(Path file) throws IOException {
    if (Files.exists(file)) {
      String existing = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (!existing.isEmpty()) {
        return existing;
      }
    }
    Files.createDirectories(file.getParent());
    String created = UUID.randomUUID().toString();
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temp, created, StandardCharsets.UTF_8);
    try {
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    return created;
  }

  /** The inode of this process's pid namespace, 0 when /proc does not say. */
  static long pidNamespace() {
    try {
      String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
      Matcher matcher = NS_INODE.matcher(link);
      return matcher.find() ? Long.parseLong(matcher.group(1)) : 0;
    } catch (IOException | UnsupportedOperationException e) {
      return 0;
    }
  }
}
