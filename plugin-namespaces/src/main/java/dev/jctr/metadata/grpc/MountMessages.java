package dev.jctr.metadata.grpc;

import dev.jctr.api.mount.Mount;
import java.util.List;

/** Mounts between the SPI's records and containerd's wire messages. */
final class MountMessages {

  private MountMessages() {}

  static List<dev.jctr.api.proto.containerd.types.Mount> toProto(List<Mount> mounts) {
    return mounts.stream().map(m -> dev.jctr.api.proto.containerd.types.Mount.newBuilder()
        .setType(m.type()).setSource(m.source()).setTarget(m.target())
        .addAllOptions(m.options()).build()).toList();
  }
}
