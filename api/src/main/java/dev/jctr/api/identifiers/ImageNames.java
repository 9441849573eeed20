package dev.jctr.api.identifiers;

/** Image references as users and the kubelet write them, normalized as containerd stores them. */
public final class ImageNames {

  private ImageNames() {}

  /**
   * {@code busybox} is {@code docker.io/library/busybox:latest}, {@code me/app} is
   * {@code docker.io/me/app:latest}; a registry host (with a dot or a port, or localhost) is
   * kept; a digest reference gets no tag.
   */
  public static String normalize(String ref) {
    String name = ref;
    int slash = name.indexOf('/');
    String first = slash < 0 ? "" : name.substring(0, slash);
    if (slash < 0) {
      name = "docker.io/library/" + name;
    } else if (!first.contains(".") && !first.contains(":") && !first.equals("localhost")) {
      name = "docker.io/" + name;
    }
    String last = name.substring(name.lastIndexOf('/') + 1);
    if (!last.contains(":") && !name.contains("@")) {
      name = name + ":latest";
    }
    return name;
  }
}
