package dev.jctr.snapshots.proxy;

import com.google.protobuf.FieldMask;
import com.google.protobuf.Timestamp;
import dev.jctr.api.filters.Fields;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.services.snapshots.v1.CleanupRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.CommitSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.Info;
import dev.jctr.api.proto.containerd.services.snapshots.v1.ListSnapshotsRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.MountsRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.PrepareSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.RemoveSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.SnapshotsGrpc;
import dev.jctr.api.proto.containerd.services.snapshots.v1.SnapshotsGrpc.SnapshotsBlockingStub;
import dev.jctr.api.proto.containerd.services.snapshots.v1.StatSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UpdateSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UsageRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UsageResponse;
import dev.jctr.api.proto.containerd.services.snapshots.v1.ViewSnapshotRequest;
import dev.jctr.api.snapshots.Kind;
import dev.jctr.api.snapshots.SnapshotInfo;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.api.snapshots.Usage;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;

/**
 * A snapshotter served by another process that speaks containerd's Snapshots service on a unix
 * socket, configured by {@code [proxy_plugins.<name>] type = "snapshot", address = "..."}: how
 * stargz and other remote snapshotters plug in. One instance per section (a factory
 * configuration the kernel makes from config.toml), registered as the {@link Snapshotter}
 * named {@code <name>}. Requests carry {@code snapshotter = <name>} and namespace-free backend
 * keys, as containerd sends them; the namespace header is {@code default}.
 */
@Component(service = Snapshotter.class, configurationPid = "io.containerd.snapshotter.v1.proxy",
    configurationPolicy = ConfigurationPolicy.REQUIRE)
@Plugin(type = PluginTypes.SNAPSHOTTER, id = "")
public final class ProxySnapshotter implements Snapshotter {

  private static final long DEADLINE_SECONDS = 120;
  private static final Metadata.Key<String> NAMESPACE =
      Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER);

  private final String name;
  private final EventLoopGroup loop;
  private final ManagedChannel channel;
  private final SnapshotsBlockingStub stub;

  /** Configuration: {@code name} and {@code address}, from the proxy_plugins section. */
  public @interface Config {
    String name();

    String address();
  }

  @Activate
  public ProxySnapshotter(Config config) {
    this.name = config.name();
    this.loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    this.channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(config.address()))
        .channelType(EpollDomainSocketChannel.class)
        .eventLoopGroup(loop)
        .usePlaintext()
        .build();
    Metadata headers = new Metadata();
    headers.put(NAMESPACE, "default");
    this.stub = SnapshotsGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private <T> T call(Supplier<T> call) {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      throw RemoteErrors.translate(name, e);
    }
  }

  private SnapshotsBlockingStub stub() {
    return stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public SnapshotInfo stat(String key) {
    return info(call(() -> stub().stat(StatSnapshotRequest.newBuilder().setSnapshotter(name)
        .setKey(key).build())).getInfo());
  }

  @Override
  public SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths) {
    Info update = Info.newBuilder().setName(info.name()).putAllLabels(info.labels()).build();
    return info(call(() -> stub().update(UpdateSnapshotRequest.newBuilder()
        .setSnapshotter(name).setInfo(update)
        .setUpdateMask(FieldMask.newBuilder().addAllPaths(fieldPaths)).build())).getInfo());
  }

  @Override
  public Usage usage(String key) {
    UsageResponse usage = call(() -> stub().usage(UsageRequest.newBuilder()
        .setSnapshotter(name).setKey(key).build()));
    return new Usage(usage.getSize(), usage.getInodes());
  }

  @Override
  public List<Mount> mounts(String key) {
    return mounts(call(() -> stub().mounts(MountsRequest.newBuilder().setSnapshotter(name)
        .setKey(key).build())).getMountsList());
  }

  @Override
  public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
    return mounts(call(() -> stub().prepare(PrepareSnapshotRequest.newBuilder()
        .setSnapshotter(name).setKey(key).setParent(parent).putAllLabels(labels).build()))
        .getMountsList());
  }

  @Override
  public List<Mount> view(String key, String parent, Map<String, String> labels) {
    return mounts(call(() -> stub().view(ViewSnapshotRequest.newBuilder()
        .setSnapshotter(name).setKey(key).setParent(parent).putAllLabels(labels).build()))
        .getMountsList());
  }

  @Override
  public void commit(String commitName, String key, Map<String, String> labels) {
    call(() -> stub().commit(CommitSnapshotRequest.newBuilder().setSnapshotter(name)
        .setName(commitName).setKey(key).putAllLabels(labels).build()));
  }

  @Override
  public void remove(String key) {
    call(() -> stub().remove(RemoveSnapshotRequest.newBuilder().setSnapshotter(name)
        .setKey(key).build()));
  }

  /** Lists everything and filters here: the SPI hands over a parsed filter, not its text. */
  @Override
  public void walk(Filter filter, Consumer<SnapshotInfo> visitor) {
    List<SnapshotInfo> infos = new ArrayList<>();
    call(() -> {
      stub().list(ListSnapshotsRequest.newBuilder().setSnapshotter(name).build())
          .forEachRemaining(r -> r.getInfoList().forEach(i -> infos.add(info(i))));
      return null;
    });
    for (SnapshotInfo info : infos) {
      Map<String, String> top = Map.of("name", info.name(), "parent", info.parent(),
          "kind", info.kind().name().toLowerCase());
      if (filter.matchesAll() || filter.matches(Fields.of(top, info.labels()))) {
        visitor.accept(info);
      }
    }
  }

  @Override
  public void cleanup() {
    call(() -> stub().cleanup(CleanupRequest.newBuilder().setSnapshotter(name).build()));
  }

  @Deactivate
  @Override
  public void close() {
    channel.shutdownNow();
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  static SnapshotInfo info(Info info) {
    return new SnapshotInfo(info.getName(), info.getParent(), kind(info), info.getLabelsMap(),
        instant(info.getCreatedAt()), instant(info.getUpdatedAt()));
  }

  private static Kind kind(Info info) {
    return switch (info.getKind()) {
      case VIEW -> Kind.VIEW;
      case ACTIVE -> Kind.ACTIVE;
      case COMMITTED -> Kind.COMMITTED;
      default -> throw new IllegalStateException("snapshot \"" + info.getName()
          + "\" has kind " + info.getKind());
    };
  }

  private static Instant instant(Timestamp timestamp) {
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }

  private static List<Mount> mounts(
      List<dev.jctr.api.proto.containerd.types.Mount> mounts) {
    return mounts.stream().map(m -> new Mount(m.getType(), m.getSource(), m.getTarget(),
        m.getOptionsList())).toList();
  }
}
