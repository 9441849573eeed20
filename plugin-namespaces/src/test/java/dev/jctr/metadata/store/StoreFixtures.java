package dev.jctr.metadata.store;

import com.google.protobuf.ByteString;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.typeurl.TypeUrls;

/** Containers as a client would send them. */
public final class StoreFixtures {

  private StoreFixtures() {}

  public static Container container(String id) {
    return Container.newBuilder()
        .setId(id)
        .setImage("docker.io/library/busybox:latest")
        .setRuntime(Container.Runtime.newBuilder().setName("io.containerd.runc.v2"))
        .setSpec(com.google.protobuf.Any.newBuilder().setTypeUrl(TypeUrls.OCI_SPEC)
            .setValue(ByteString.copyFromUtf8("{\"ociVersion\":\"1.1.0\"}")))
        .build();
  }
}
