package dev.jctr.api.images;

import dev.jctr.api.proto.containerd.services.images.v1.Image;
import java.io.IOException;
import java.util.List;

/**
 * Images of a namespace as other bundles (the CRI) use them: the records, their content, and
 * a pull that stores and unpacks an image as {@code jctr images pull} does.
 */
public interface ImageCatalog {

  List<Image> list(String namespace);

  /** @throws dev.jctr.api.errors.NotFoundException when there is no image {@code name} */
  Image get(String namespace, String name);

  /** @throws dev.jctr.api.errors.NotFoundException when there is no image {@code name} */
  void delete(String namespace, String name);

  /**
   * Pulls {@code reference} (normalized as docker does) for this host's platform and unpacks
   * it into {@code snapshotter}; returns the image record. {@code hostsDir} is a containerd
   * hosts directory ({@code <dir>/<host>/hosts.toml}: mirrors, CAs), "" for none.
   */
  Image pull(String namespace, String reference, String username, String password,
      String snapshotter, String hostsDir) throws IOException;

  /** The bytes of blob {@code digest}, which must be in the namespace. */
  byte[] read(String namespace, String digest) throws IOException;
}
