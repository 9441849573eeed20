package dev.jctr.api.mount;

import java.util.List;

/**
 * One mount as containerd's API carries it ({@code containerd.types.Mount}): what to mount
 * ({@code type}, {@code source}, {@code options} as mount(8) takes them) and, optionally, where.
 */
public record Mount(String type, String source, String target, List<String> options) {

  public Mount {
    options = List.copyOf(options);
  }

  public Mount(String type, String source, List<String> options) {
    this(type, source, "", options);
  }

  /** Whether the mount is read-only: a bind with {@code ro}, or an overlay without upperdir. */
  public boolean readOnly() {
    if (type.equals("overlay")) {
      return options.stream().noneMatch(o -> o.startsWith("upperdir="));
    }
    return options.contains("ro");
  }
}
