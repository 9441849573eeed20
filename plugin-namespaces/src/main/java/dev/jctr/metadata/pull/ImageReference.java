package dev.jctr.metadata.pull;

import dev.jctr.api.content.Digests;
import dev.jctr.api.errors.InvalidArgumentException;

/**
 * An image reference as Docker and containerd read it: {@code [host[:port]/]path[:tag][@digest]},
 * with {@code docker.io} and {@code library/} filled in for short names and {@code latest} for
 * a missing tag.
 */
public record ImageReference(String host, String repository, String tag, String digest) {

  public static ImageReference parse(String text) {
    if (text == null || text.isBlank() || !text.equals(text.strip())) {
      throw new InvalidArgumentException("image reference \"" + text + "\" is empty or padded");
    }
    String rest = text;
    String digest = "";
    int at = rest.indexOf('@');
    if (at >= 0) {
      digest = Digests.validate(rest.substring(at + 1));
      rest = rest.substring(0, at);
    }
    String host = "docker.io";
    int slash = rest.indexOf('/');
    if (slash > 0) {
      String first = rest.substring(0, slash);
      if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
        host = first;
        rest = rest.substring(slash + 1);
      }
    }
    String tag = "";
    int colon = rest.lastIndexOf(':');
    if (colon > 0) {
      tag = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
    }
    if (tag.isEmpty() && digest.isEmpty()) {
      tag = "latest";
    }
    if (host.equals("docker.io") && !rest.contains("/")) {
      rest = "library/" + rest;
    }
    if (!rest.matches("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)"
        + "[a-z0-9]+)*)*")) {
      throw new InvalidArgumentException("image reference \"" + text + "\": repository \""
          + rest + "\" must be lowercase path components");
    }
    if (!tag.isEmpty() && !tag.matches("[\\w][\\w.-]{0,127}")) {
      throw new InvalidArgumentException("image reference \"" + text + "\": bad tag \"" + tag
          + "\"");
    }
    return new ImageReference(host, rest, tag, digest);
  }

  /** The registry's address: Docker Hub is served from registry-1.docker.io. */
  String registry() {
    return host.equals("docker.io") ? "registry-1.docker.io" : host;
  }

  /** What to ask the registry for: the digest when given, else the tag. */
  String object() {
    return digest.isEmpty() ? tag : digest;
  }

  /** The full name, as the image record is named. */
  @Override
  public String toString() {
    return host + "/" + repository + (tag.isEmpty() ? "" : ":" + tag)
        + (digest.isEmpty() ? "" : "@" + digest);
  }
}
