package dev.jctr.healthcheck;

import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.grpc.health.v1.HealthCheckRequest;
import dev.jctr.api.proto.grpc.health.v1.HealthCheckResponse;
import dev.jctr.api.proto.grpc.health.v1.HealthCheckResponse.ServingStatus;
import dev.jctr.api.proto.grpc.health.v1.HealthGrpc;
import io.grpc.BindableService;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * {@code grpc.health.v1.Health}, containerd's healthcheck plugin: the daemon as a whole is
 * SERVING while this plugin runs. Named services are not tracked, as in containerd.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.healthcheck")
@Plugin(type = PluginTypes.GRPC, id = "healthcheck")
public final class HealthService extends HealthGrpc.HealthImplBase {

  private static final HealthCheckResponse SERVING = status(ServingStatus.SERVING);
  private static final HealthCheckResponse NOT_SERVING = status(ServingStatus.NOT_SERVING);

  /** Open Watch streams; told NOT_SERVING and completed when the plugin stops. */
  private final Set<StreamObserver<HealthCheckResponse>> watchers = ConcurrentHashMap.newKeySet();

  @Override
  public void check(HealthCheckRequest request,
      StreamObserver<HealthCheckResponse> responseObserver) {
    responseObserver.onNext(SERVING);
    responseObserver.onCompleted();
  }

  @Override
  public void watch(HealthCheckRequest request,
      StreamObserver<HealthCheckResponse> responseObserver) {
    watchers.add(responseObserver);
    ((ServerCallStreamObserver<HealthCheckResponse>) responseObserver)
        .setOnCancelHandler(() -> watchers.remove(responseObserver));
    responseObserver.onNext(SERVING);
  }

  @Deactivate
  void deactivate() {
    for (StreamObserver<HealthCheckResponse> watcher : watchers) {
      try {
        watcher.onNext(NOT_SERVING);
        watcher.onCompleted();
      } catch (RuntimeException e) {
        // the client left while we were telling it; nothing more to do for that stream
      }
    }
    watchers.clear();
  }

  private static HealthCheckResponse status(ServingStatus status) {
    return HealthCheckResponse.newBuilder().setStatus(status).build();
  }
}
