package dev.jctr.api.filters;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How a filter reads an object: the value at a field path, if the object has one there.
 * Adaptors are written per object kind (containers, images, events).
 */
@FunctionalInterface
public interface Fields {

  /** The value at {@code path}, e.g. {@code ["labels", "io.kubernetes.pod.name"]}. */
  Optional<String> field(List<String> path);

  /**
   * An adaptor over top-level fields ({@code id}, {@code image}, ...) and a labels map read as
   * {@code labels.<key>}.
   */
  static Fields of(Map<String, String> topLevel, Map<String, String> labels) {
    return path -> switch (path.size()) {
      case 1 -> Optional.ofNullable(topLevel.get(path.get(0)));
      case 2 -> path.get(0).equals("labels")
          ? Optional.ofNullable(labels.get(path.get(1))) : Optional.empty();
      default -> Optional.empty();
    };
  }
}
