package dev.jctr.api.daemon;

import java.nio.file.Path;

/**
 * Where the running daemon keeps things, as config.toml and the command line set them. The
 * kernel registers one instance; plugins take it as a reference and derive their directories
 * from it, as containerd hands every plugin its root and state.
 */
public interface DaemonEnvironment {

  /** Persistent data: content, snapshots, metadata. Survives reboots. */
  Path root();

  /** Runtime state: sockets, task bundles. Rebuilt at boot. */
  Path state();

  /** The gRPC unix socket the daemon serves. */
  Path grpcAddress();

  /** The ttrpc unix socket the daemon serves (shims publish events to it). */
  Path ttrpcAddress();

  /** {@code <root>/<type>.<id>}: a plugin's own persistent directory (not created here). */
  default Path pluginRoot(String type, String id) {
    return root().resolve(type + "." + id);
  }

  /** {@code <state>/<type>.<id>}: a plugin's own runtime directory (not created here). */
  default Path pluginState(String type, String id) {
    return state().resolve(type + "." + id);
  }
}
