package dev.jctr.kernel.config;

import java.nio.file.Path;

/** A {@code [proxy_plugins.<name>]} section: a plugin another process serves on a socket. */
public record ProxyPlugin(String name, String type, Path address) {

  public static final String SNAPSHOT = "io.containerd.snapshotter.v1";

  /** The plugin type URI for containerd's short names or full URIs; null when unknown. */
  static String typeUri(String type) {
    return switch (type) {
      case "snapshot", SNAPSHOT -> SNAPSHOT;
      case "content", "io.containerd.content.v1" -> "io.containerd.content.v1";
      case "diff", "io.containerd.differ.v1" -> "io.containerd.differ.v1";
      case "sandbox", "io.containerd.sandbox.controller.v1" ->
          "io.containerd.sandbox.controller.v1";
      default -> null;
    };
  }
}
