package dev.jctr.metadata.plugin;

import dev.jctr.api.containers.ContainerRecords;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@link ContainerRecords} over the metadata database, for the tasks and CRI bundles. */
@Component(service = ContainerRecords.class)
public final class StoredContainerRecords implements ContainerRecords {

  private final MetadataPlugin metadata;

  @Activate
  public StoredContainerRecords(@Reference MetadataPlugin metadata) {
    this.metadata = metadata;
  }

  @Override
  public Container get(String namespace, String id) {
    return metadata.containers().get(namespace, id);
  }
}
