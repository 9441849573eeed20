package dev.jctr.kernel.introspection;

import com.google.protobuf.Empty;
import com.google.rpc.Status;
import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.filters.Fields;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.services.introspection.v1.IntrospectionGrpc;
import dev.jctr.api.proto.containerd.services.introspection.v1.PluginInfoRequest;
import dev.jctr.api.proto.containerd.services.introspection.v1.PluginInfoResponse;
import dev.jctr.api.proto.containerd.services.introspection.v1.PluginsRequest;
import dev.jctr.api.proto.containerd.services.introspection.v1.PluginsResponse;
import dev.jctr.api.proto.containerd.services.introspection.v1.ServerResponse;
import dev.jctr.api.proto.containerd.types.Platform;
import io.grpc.BindableService;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;

/**
 * {@code containerd.services.introspection.v1.Introspection}: the plugin table, read live from
 * SCR so that a bundle added, updated or removed shows at once, and the server's identity.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.introspection")
@Plugin(type = PluginTypes.GRPC, id = "introspection")
public final class IntrospectionService extends IntrospectionGrpc.IntrospectionImplBase {

  /** containerd reports a plugin's init failure with code Unknown and the reason as message. */
  private static final int UNKNOWN = com.google.rpc.Code.UNKNOWN_VALUE;

  private final ServiceComponentRuntime scr;
  private final DaemonEnvironment environment;

  @Activate
  public IntrospectionService(@Reference ServiceComponentRuntime scr,
      @Reference DaemonEnvironment environment) {
    this.scr = scr;
    this.environment = environment;
  }

  @Override
  public void plugins(PluginsRequest request, StreamObserver<PluginsResponse> responseObserver) {
    Filter filter = Filter.parseAny(request.getFiltersList());
    PluginsResponse.Builder response = PluginsResponse.newBuilder();
    for (PluginRecord plugin : PluginTable.read(scr)) {
      if (filter.matches(Fields.of(Map.of("type", plugin.type(), "id", plugin.id()), Map.of()))) {
        response.addPlugins(toProto(plugin));
      }
    }
    responseObserver.onNext(response.build());
    responseObserver.onCompleted();
  }

  @Override
  public void server(Empty request, StreamObserver<ServerResponse> responseObserver) {
    String uuid;
    try {
      uuid = ServerIdentity.uuid(
          environment.pluginRoot(PluginTypes.GRPC, "introspection").resolve("uuid"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create the server uuid", e);
    }
    responseObserver.onNext(ServerResponse.newBuilder()
        .setUuid(uuid)
        .setPid(ProcessHandle.current().pid())
        .setPidns(ServerIdentity.pidNamespace())
        .build());
    responseObserver.onCompleted();
  }

  @Override
  public void pluginInfo(PluginInfoRequest request,
      StreamObserver<PluginInfoResponse> responseObserver) {
    List<PluginRecord> matches = PluginTable.read(scr).stream()
        .filter(p -> p.type().equals(request.getType()) && p.id().equals(request.getId()))
        .toList();
    if (matches.isEmpty()) {
      throw new NotFoundException("plugin " + request.getType() + "." + request.getId());
    }
    responseObserver.onNext(
        PluginInfoResponse.newBuilder().setPlugin(toProto(matches.get(0))).build());
    responseObserver.onCompleted();
  }

  private static dev.jctr.api.proto.containerd.services.introspection.v1.Plugin toProto(
      PluginRecord plugin) {
    var builder = dev.jctr.api.proto.containerd.services.introspection.v1.Plugin.newBuilder()
        .setType(plugin.type())
        .setId(plugin.id())
        .addAllRequires(plugin.requires());
    if (plugin.type().equals(PluginTypes.SNAPSHOTTER)) {
      builder.addPlatforms(Platform.newBuilder().setOs("linux").setArchitecture(hostArch()));
    }
    plugin.initError().ifPresent(message ->
        builder.setInitErr(Status.newBuilder().setCode(UNKNOWN).setMessage(message)));
    return builder.build();
  }

  private static String hostArch() {
    String arch = System.getProperty("os.arch");
    return switch (arch) {
      case "amd64", "x86_64" -> "amd64";
      case "aarch64" -> "arm64";
      default -> arch;
    };
  }
}
