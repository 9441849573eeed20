package dev.jctr.kernel.version;

import com.google.protobuf.Empty;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.services.version.v1.VersionGrpc;
import dev.jctr.api.proto.containerd.services.version.v1.VersionResponse;
import io.grpc.BindableService;
import io.grpc.stub.StreamObserver;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/** {@code containerd.services.version.v1.Version}: the kernel bundle's version and revision. */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.version")
@Plugin(type = PluginTypes.GRPC, id = "version")
public final class VersionService extends VersionGrpc.VersionImplBase {

  private final VersionResponse response;

  @Activate
  public VersionService(BundleContext context) {
    var headers = context.getBundle().getHeaders();
    String revision = headers.get("Jctr-Revision");
    this.response = VersionResponse.newBuilder()
        .setVersion(context.getBundle().getVersion().toString())
        .setRevision(revision == null ? "" : revision)
        .build();
  }

  @Override
  public void version(Empty request, StreamObserver<VersionResponse> responseObserver) {
    responseObserver.onNext(response);
    responseObserver.onCompleted();
  }
}
