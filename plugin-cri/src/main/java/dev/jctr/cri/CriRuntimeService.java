package dev.jctr.cri;

import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.cri.v1.CgroupDriver;
import dev.jctr.api.proto.cri.v1.LinuxRuntimeConfiguration;
import dev.jctr.api.proto.cri.v1.RuntimeCondition;
import dev.jctr.api.proto.cri.v1.RuntimeConfigRequest;
import dev.jctr.api.proto.cri.v1.RuntimeConfigResponse;
import dev.jctr.api.proto.cri.v1.RuntimeServiceGrpc;
import dev.jctr.api.proto.cri.v1.RuntimeStatus;
import dev.jctr.api.proto.cri.v1.StatusRequest;
import dev.jctr.api.proto.cri.v1.StatusResponse;
import dev.jctr.api.proto.cri.v1.VersionRequest;
import dev.jctr.api.proto.cri.v1.VersionResponse;
import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import org.osgi.service.component.annotations.Component;

/**
 * CRI {@code runtime.v1.RuntimeService}: so far Version, Status and RuntimeConfig; pods and
 * containers are not served yet (Unimplemented), and Status says so: NetworkReady is false.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.cri")
@Plugin(type = PluginTypes.GRPC, id = "cri", requires = {PluginTypes.METADATA})
public final class CriRuntimeService implements RuntimeServiceGrpc.AsyncService,
    BindableService {

  /** The CRI version the kubelet asks for and gets. */
  static final String API_VERSION = "v1";

  @Override
  public ServerServiceDefinition bindService() {
    return RuntimeServiceGrpc.bindService(this);
  }

  private static <T> void reply(StreamObserver<T> response, T message) {
    response.onNext(message);
    response.onCompleted();
  }

  @Override
  public void version(VersionRequest request, StreamObserver<VersionResponse> response) {
    String version = CriRuntimeService.class.getPackage().getImplementationVersion();
    reply(response, VersionResponse.newBuilder().setVersion("0.1.0").setRuntimeName("jctr")
        .setRuntimeVersion(version == null ? "0.1.0" : version)
        .setRuntimeApiVersion(API_VERSION).build());
  }

  @Override
  public void status(StatusRequest request, StreamObserver<StatusResponse> response) {
    reply(response, StatusResponse.newBuilder().setStatus(RuntimeStatus.newBuilder()
        .addConditions(RuntimeCondition.newBuilder().setType("RuntimeReady").setStatus(true))
        .addConditions(RuntimeCondition.newBuilder().setType("NetworkReady").setStatus(false)
            .setReason("NetworkPluginNotReady")
            .setMessage("jctr's CRI does not run pods yet: no CNI set-up")))
        .build());
  }

  @Override
  public void runtimeConfig(RuntimeConfigRequest request,
      StreamObserver<RuntimeConfigResponse> response) {
    reply(response, RuntimeConfigResponse.newBuilder().setLinux(LinuxRuntimeConfiguration
        .newBuilder().setCgroupDriver(CgroupDriver.CGROUPFS)).build());
  }
}
