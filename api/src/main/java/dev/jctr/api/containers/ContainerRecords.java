package dev.jctr.api.containers;

import dev.jctr.api.proto.containerd.services.containers.v1.Container;

/**
 * Read access to container records for bundles other than the metadata store's (tasks, CRI).
 * Records are per namespace, as everywhere.
 */
public interface ContainerRecords {

  /**
   * The container {@code id} of {@code namespace}.
   *
   * @throws dev.jctr.api.errors.NotFoundException when there is none
   */
  Container get(String namespace, String id);
}
