package dev.jctr.cri;

import dev.jctr.api.images.ImageCatalog;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Pulls into {@code k8s.io} as the CRI config says: through its registry hosts (mirrors, CAs)
 * and, when the kubelet sends no credentials, with those configured for the image's registry.
 */
final class CriPuller {

  private final ImageCatalog catalog;
  private final CriConfig config;
  private final String hostsDir;

  /** {@code generatedHosts}: where inline mirror tables are written as a hosts directory. */
  CriPuller(ImageCatalog catalog, CriConfig config, Path generatedHosts) throws IOException {
    this.catalog = catalog;
    this.config = config;
    this.hostsDir = config.registry().hostsDir(generatedHosts);
  }

  /** Pulls and unpacks normalized {@code reference}; "" credentials mean the configured ones. */
  Image pull(String reference, String username, String password) throws IOException {
    if (username.isEmpty() && password.isEmpty()) {
      int slash = reference.indexOf('/');
      var configured = config.registry().credentialsFor(slash < 0 ? "" : reference.substring(0,
          slash));
      username = configured.username();
      password = configured.password();
    }
    return catalog.pull(PodManager.NAMESPACE, reference, username, password,
        config.snapshotter(), hostsDir);
  }

  String hostsDir() {
    return hostsDir;
  }
}
