package dev.jctr.api.plugin;

/**
 * Thrown from a plugin's activation when the plugin cannot work on this host (for example, no
 * overlayfs under root). Introspection then reports the plugin as {@code skip} rather than
 * {@code error}, as containerd does, because the message carries containerd's marker text.
 */
public final class SkipPluginException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** containerd's marker: {@code ctr plugins ls} shows {@code skip} when init_err contains it. */
  public static final String MARKER = "skip plugin";

  public SkipPluginException(String reason) {
    super(reason + ": " + MARKER);
  }
}
