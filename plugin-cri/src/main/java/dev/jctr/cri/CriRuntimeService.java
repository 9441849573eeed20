package dev.jctr.cri;

import com.google.gson.JsonObject;
import com.google.protobuf.ByteString;
import dev.jctr.api.daemon.DaemonChannel;
import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.errors.NotImplementedException;
import dev.jctr.api.events.EventExchange;
import dev.jctr.api.host.LinuxHost;
import dev.jctr.api.images.ImageCatalog;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UsageRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.ListTasksRequest;
import dev.jctr.api.proto.cri.v1.AttachRequest;
import dev.jctr.api.proto.cri.v1.AttachResponse;
import dev.jctr.api.proto.cri.v1.CgroupDriver;
import dev.jctr.api.proto.cri.v1.CheckpointContainerRequest;
import dev.jctr.api.proto.cri.v1.CheckpointContainerResponse;
import dev.jctr.api.proto.cri.v1.ContainerEventResponse;
import dev.jctr.api.proto.cri.v1.ContainerFilter;
import dev.jctr.api.proto.cri.v1.ContainerStats;
import dev.jctr.api.proto.cri.v1.ContainerStatsFilter;
import dev.jctr.api.proto.cri.v1.ContainerStatsRequest;
import dev.jctr.api.proto.cri.v1.ContainerStatsResponse;
import dev.jctr.api.proto.cri.v1.ContainerStatusRequest;
import dev.jctr.api.proto.cri.v1.ContainerStatusResponse;
import dev.jctr.api.proto.cri.v1.CreateContainerRequest;
import dev.jctr.api.proto.cri.v1.CreateContainerResponse;
import dev.jctr.api.proto.cri.v1.ExecRequest;
import dev.jctr.api.proto.cri.v1.ExecResponse;
import dev.jctr.api.proto.cri.v1.ExecSyncRequest;
import dev.jctr.api.proto.cri.v1.ExecSyncResponse;
import dev.jctr.api.proto.cri.v1.GetEventsRequest;
import dev.jctr.api.proto.cri.v1.LinuxRuntimeConfiguration;
import dev.jctr.api.proto.cri.v1.ListContainerStatsRequest;
import dev.jctr.api.proto.cri.v1.ListContainerStatsResponse;
import dev.jctr.api.proto.cri.v1.ListContainersRequest;
import dev.jctr.api.proto.cri.v1.ListContainersResponse;
import dev.jctr.api.proto.cri.v1.ListMetricDescriptorsRequest;
import dev.jctr.api.proto.cri.v1.ListMetricDescriptorsResponse;
import dev.jctr.api.proto.cri.v1.ListPodSandboxMetricsRequest;
import dev.jctr.api.proto.cri.v1.ListPodSandboxMetricsResponse;
import dev.jctr.api.proto.cri.v1.ListPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.ListPodSandboxResponse;
import dev.jctr.api.proto.cri.v1.ListPodSandboxStatsRequest;
import dev.jctr.api.proto.cri.v1.ListPodSandboxStatsResponse;
import dev.jctr.api.proto.cri.v1.PodSandboxFilter;
import dev.jctr.api.proto.cri.v1.PodSandboxStats;
import dev.jctr.api.proto.cri.v1.PodSandboxStatsFilter;
import dev.jctr.api.proto.cri.v1.PodSandboxStatsRequest;
import dev.jctr.api.proto.cri.v1.PodSandboxStatsResponse;
import dev.jctr.api.proto.cri.v1.PodSandboxStatusRequest;
import dev.jctr.api.proto.cri.v1.PodSandboxStatusResponse;
import dev.jctr.api.proto.cri.v1.PortForwardRequest;
import dev.jctr.api.proto.cri.v1.PortForwardResponse;
import dev.jctr.api.proto.cri.v1.RemoveContainerRequest;
import dev.jctr.api.proto.cri.v1.RemoveContainerResponse;
import dev.jctr.api.proto.cri.v1.RemovePodSandboxRequest;
import dev.jctr.api.proto.cri.v1.RemovePodSandboxResponse;
import dev.jctr.api.proto.cri.v1.ReopenContainerLogRequest;
import dev.jctr.api.proto.cri.v1.ReopenContainerLogResponse;
import dev.jctr.api.proto.cri.v1.RunPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.RunPodSandboxResponse;
import dev.jctr.api.proto.cri.v1.RuntimeCondition;
import dev.jctr.api.proto.cri.v1.RuntimeConfigRequest;
import dev.jctr.api.proto.cri.v1.RuntimeConfigResponse;
import dev.jctr.api.proto.cri.v1.RuntimeServiceGrpc;
import dev.jctr.api.proto.cri.v1.RuntimeStatus;
import dev.jctr.api.proto.cri.v1.StartContainerRequest;
import dev.jctr.api.proto.cri.v1.StartContainerResponse;
import dev.jctr.api.proto.cri.v1.StatusRequest;
import dev.jctr.api.proto.cri.v1.StatusResponse;
import dev.jctr.api.proto.cri.v1.StopContainerRequest;
import dev.jctr.api.proto.cri.v1.StopContainerResponse;
import dev.jctr.api.proto.cri.v1.StopPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.StopPodSandboxResponse;
import dev.jctr.api.proto.cri.v1.StreamContainerStatsRequest;
import dev.jctr.api.proto.cri.v1.StreamContainerStatsResponse;
import dev.jctr.api.proto.cri.v1.StreamContainersRequest;
import dev.jctr.api.proto.cri.v1.StreamContainersResponse;
import dev.jctr.api.proto.cri.v1.StreamPodSandboxStatsRequest;
import dev.jctr.api.proto.cri.v1.StreamPodSandboxStatsResponse;
import dev.jctr.api.proto.cri.v1.StreamPodSandboxesRequest;
import dev.jctr.api.proto.cri.v1.StreamPodSandboxesResponse;
import dev.jctr.api.proto.cri.v1.UpdateContainerResourcesRequest;
import dev.jctr.api.proto.cri.v1.UpdateContainerResourcesResponse;
import dev.jctr.api.proto.cri.v1.UpdateRuntimeConfigRequest;
import dev.jctr.api.proto.cri.v1.UpdateRuntimeConfigResponse;
import dev.jctr.api.proto.cri.v1.VersionRequest;
import dev.jctr.api.proto.cri.v1.VersionResponse;
import dev.jctr.api.runtime.ShimPool;
import dev.jctr.cri.stats.CgroupStats;
import dev.jctr.cri.streaming.StreamRequests;
import dev.jctr.cri.streaming.StreamServer;
import dev.jctr.cri.stats.StatsCollector;
import dev.jctr.cri.store.CriContainer;
import dev.jctr.cri.store.PodSandbox;
import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * CRI {@code runtime.v1.RuntimeService} on jctrd's socket: pods (a pause container in a CNI
 * network namespace) and their containers in namespace {@code k8s.io}, run through the
 * daemon's own containers, snapshots and tasks services. Exec and PortForward hand out URLs of
 * the WebSocket streaming server; CheckpointContainer answers Unimplemented.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.cri")
@Plugin(type = PluginTypes.GRPC, id = "cri", requires = {PluginTypes.METADATA,
    PluginTypes.RUNTIME_V2})
public final class CriRuntimeService implements RuntimeServiceGrpc.AsyncService,
    BindableService {

  private static final Logger LOG = System.getLogger(CriRuntimeService.class.getName());
  /** The CRI version the kubelet asks for and gets. */
  static final String API_VERSION = "v1";

  private final PodManager pods;
  private final ContainerEvents events = new ContainerEvents();
  private final StatsCollector stats;
  private final LocalApi api;
  private final CriConfig config;
  private final StreamRequests requests = new StreamRequests();
  private final StreamServer streams;
  /** Whether the default handler's pod shims were asked for, on the kubelet's first Status. */
  private final AtomicBoolean shimsPrestarted = new AtomicBoolean();

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private volatile ShimPool shimPool;

  @Activate
  public CriRuntimeService(@Reference DaemonChannel channel, @Reference ImageCatalog catalog,
      @Reference EventExchange exchange, @Reference DaemonEnvironment environment,
      @Reference LinuxHost host, Map<String, Object> properties) {
    this.config = CriConfig.from(properties);
    this.api = new LocalApi(channel.channel(), PodManager.NAMESPACE);
    Path root = environment.pluginRoot(PluginTypes.GRPC, "cri");
    Path state = environment.pluginState(PluginTypes.GRPC, "cri");
    try {
      this.pods = new PodManager(api, new CriImages(catalog), new CriPuller(catalog, config,
          root.resolve("hosts.d")), config, exchange, host, root, state, events);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("writing the CRI registry hosts under " + root, e);
    }
    this.stats = new StatsCollector(CgroupStats.host(),
        environment.pluginRoot(PluginTypes.SNAPSHOTTER, config.snapshotter()));
    try {
      this.streams = new StreamServer(config.streamAddress(), config.streamPort(), requests,
          new StreamServer.Backend() {
            @Override
            public dev.jctr.cri.streaming.StreamedProcess exec(StreamRequests.Exec request)
                throws java.io.IOException {
              return pods.streamExec(request);
            }

            @Override
            public dev.jctr.cri.streaming.StreamedProcess attach(StreamRequests.Attach request) {
              return pods.attach(request);
            }

            @Override
            public dev.jctr.cri.streaming.StreamedProcess dial(
                StreamRequests.PortForward request, int port) throws java.io.IOException {
              return PodManager.dial(request.netns(), port);
            }
          });
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted starting the streaming server", e);
    }
    Thread.ofVirtual().name("cri-restore").start(this::restoreWhenTasksAnswer);
  }

  /** Restores once the tasks service is served (bundles start in no fixed order). */
  private void restoreWhenTasksAnswer() {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      try {
        api.tasks().list(ListTasksRequest.getDefaultInstance());
        break;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
          break;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException interrupted) {
          return;
        }
      }
    }
    try {
      pods.restore();
    } catch (RuntimeException e) {
      LOG.log(Level.ERROR, "CRI restore failed", e);
    }
  }

  @Deactivate
  void deactivate() {
    streams.close();
    events.close();
    pods.close();
  }

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

  /**
   * The kubelet asks for Status as it registers the node, well before its first pod: the
   * default handler's pod shims (JVMs, for jctr's shim) start then, not in the first pods.
   */
  private void prestartPodShims() {
    ShimPool pool = shimPool;
    if (pool != null && shimsPrestarted.compareAndSet(false, true)) {
      pool.prestartPodShims(PodManager.NAMESPACE, config.runtimeOf("").getName());
    }
  }

  @Override
  public void status(StatusRequest request, StreamObserver<StatusResponse> response) {
    prestartPodShims();
    RuntimeCondition.Builder network = RuntimeCondition.newBuilder().setType("NetworkReady");
    var loaded = pods.network().network();
    if (loaded.isPresent()) {
      network.setStatus(true);
    } else {
      network.setStatus(false).setReason("NetworkPluginNotReady").setMessage("no network"
          + " config in " + pods.network().confDir() + " (cni.conf_dir); add a .conflist");
    }
    StatusResponse.Builder status = StatusResponse.newBuilder().setStatus(RuntimeStatus
        .newBuilder().addConditions(RuntimeCondition.newBuilder().setType("RuntimeReady")
            .setStatus(true)).addConditions(network));
    if (request.getVerbose()) {
      JsonObject info = new JsonObject();
      info.addProperty("sandboxImage", config.sandboxImage());
      info.addProperty("snapshotter", config.snapshotter());
      info.addProperty("cniConfDir", config.cniConfDir().toString());
      info.addProperty("cniBinDirs", config.cniBinDirs().toString());
      info.addProperty("cniNetwork", loaded.map(n -> n.file().toString()).orElse(""));
      info.addProperty("apparmor", dev.jctr.cri.spec.PodSpecs.apparmorEnabled()
          ? "available" : "unavailable on this host");
      info.addProperty("selinux", java.nio.file.Files.exists(Path.of("/sys/fs/selinux"))
          ? "available" : "unavailable on this host");
      status.putInfo("config", info.toString());
    }
    reply(response, status.build());
  }

  @Override
  public void runtimeConfig(RuntimeConfigRequest request,
      StreamObserver<RuntimeConfigResponse> response) {
    reply(response, RuntimeConfigResponse.newBuilder().setLinux(LinuxRuntimeConfiguration
        .newBuilder().setCgroupDriver(CgroupDriver.CGROUPFS)).build());
  }

  @Override
  public void updateRuntimeConfig(UpdateRuntimeConfigRequest request,
      StreamObserver<UpdateRuntimeConfigResponse> response) {
    // the pod CIDR reaches CNI through its own config here; nothing to keep
    reply(response, UpdateRuntimeConfigResponse.getDefaultInstance());
  }

  // ---------------------------------------------------------------- pods

  @Override
  public void runPodSandbox(RunPodSandboxRequest request,
      StreamObserver<RunPodSandboxResponse> response) {
    reply(response, RunPodSandboxResponse.newBuilder().setPodSandboxId(pods.runPodSandbox(
        request.getConfig(), request.getRuntimeHandler())).build());
  }

  @Override
  public void stopPodSandbox(StopPodSandboxRequest request,
      StreamObserver<StopPodSandboxResponse> response) {
    pods.stopPodSandbox(request.getPodSandboxId());
    reply(response, StopPodSandboxResponse.getDefaultInstance());
  }

  @Override
  public void removePodSandbox(RemovePodSandboxRequest request,
      StreamObserver<RemovePodSandboxResponse> response) {
    pods.removePodSandbox(request.getPodSandboxId());
    reply(response, RemovePodSandboxResponse.getDefaultInstance());
  }

  @Override
  public void podSandboxStatus(PodSandboxStatusRequest request,
      StreamObserver<PodSandboxStatusResponse> response) {
    PodSandbox sandbox = pods.sandbox(request.getPodSandboxId());
    PodSandboxStatusResponse.Builder status = PodSandboxStatusResponse.newBuilder()
        .setStatus(CriMessages.status(sandbox))
        .setTimestamp(System.currentTimeMillis() * 1_000_000L);
    for (CriContainer container : pods.containers()) {
      if (container.sandboxId().equals(sandbox.id())) {
        status.addContainersStatuses(CriMessages.status(container));
      }
    }
    if (request.getVerbose()) {
      status.putInfo("info", CriMessages.info(sandbox, sandbox.runtime().getName()).toString());
    }
    reply(response, status.build());
  }

  private List<dev.jctr.api.proto.cri.v1.PodSandbox> sandboxes(PodSandboxFilter filter) {
    List<dev.jctr.api.proto.cri.v1.PodSandbox> items = new ArrayList<>();
    for (PodSandbox sandbox : pods.sandboxes()) {
      if (filter != null) {
        if (!filter.getId().isEmpty() && !sandbox.id().startsWith(filter.getId())
            || filter.hasState() && filter.getState().getState() != sandbox.state()
            || !labelsMatch(filter.getLabelSelectorMap(), sandbox.config().getLabelsMap())) {
          continue;
        }
      }
      items.add(CriMessages.item(sandbox));
    }
    return items;
  }

  @Override
  public void listPodSandbox(ListPodSandboxRequest request,
      StreamObserver<ListPodSandboxResponse> response) {
    reply(response, ListPodSandboxResponse.newBuilder().addAllItems(sandboxes(
        request.hasFilter() ? request.getFilter() : null)).build());
  }

  @Override
  public void streamPodSandboxes(StreamPodSandboxesRequest request,
      StreamObserver<StreamPodSandboxesResponse> response) {
    List<dev.jctr.api.proto.cri.v1.PodSandbox> items = sandboxes(request.hasFilter()
        ? request.getFilter() : null);
    inBatches(items, batch -> StreamPodSandboxesResponse.newBuilder()
        .addAllPodSandboxes(batch).build(), response);
  }

  /** A Stream* answer: the items in messages of at most 100. */
  private static <T, R> void inBatches(List<T> items,
      java.util.function.Function<List<T>, R> message, StreamObserver<R> response) {
    for (int i = 0; i < items.size(); i += 100) {
      response.onNext(message.apply(items.subList(i, Math.min(items.size(), i + 100))));
    }
    response.onCompleted();
  }

  private static boolean labelsMatch(Map<String, String> selector, Map<String, String> labels) {
    return selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(
        e.getKey())));
  }

  // ---------------------------------------------------------------- containers

  @Override
  public void createContainer(CreateContainerRequest request,
      StreamObserver<CreateContainerResponse> response) {
    reply(response, CreateContainerResponse.newBuilder().setContainerId(pods.createContainer(
        request.getPodSandboxId(), request.getConfig())).build());
  }

  @Override
  public void startContainer(StartContainerRequest request,
      StreamObserver<StartContainerResponse> response) {
    pods.startContainer(request.getContainerId());
    reply(response, StartContainerResponse.getDefaultInstance());
  }

  @Override
  public void stopContainer(StopContainerRequest request,
      StreamObserver<StopContainerResponse> response) {
    pods.stopContainer(request.getContainerId(), request.getTimeout());
    reply(response, StopContainerResponse.getDefaultInstance());
  }

  @Override
  public void removeContainer(RemoveContainerRequest request,
      StreamObserver<RemoveContainerResponse> response) {
    pods.removeContainer(request.getContainerId());
    reply(response, RemoveContainerResponse.getDefaultInstance());
  }

  private List<dev.jctr.api.proto.cri.v1.Container> containers(ContainerFilter filter) {
    List<dev.jctr.api.proto.cri.v1.Container> items = new ArrayList<>();
    for (CriContainer container : pods.containers()) {
      if (filter != null) {
        if (!filter.getId().isEmpty() && !container.id().startsWith(filter.getId())
            || filter.hasState() && filter.getState().getState() != container.state()
            || !filter.getPodSandboxId().isEmpty()
                && !container.sandboxId().startsWith(filter.getPodSandboxId())
            || !labelsMatch(filter.getLabelSelectorMap(), container.config().getLabelsMap())) {
          continue;
        }
      }
      items.add(CriMessages.item(container));
    }
    return items;
  }

  @Override
  public void listContainers(ListContainersRequest request,
      StreamObserver<ListContainersResponse> response) {
    reply(response, ListContainersResponse.newBuilder().addAllContainers(containers(
        request.hasFilter() ? request.getFilter() : null)).build());
  }

  @Override
  public void streamContainers(StreamContainersRequest request,
      StreamObserver<StreamContainersResponse> response) {
    List<dev.jctr.api.proto.cri.v1.Container> items = containers(request.hasFilter()
        ? request.getFilter() : null);
    inBatches(items, batch -> StreamContainersResponse.newBuilder()
        .addAllContainers(batch).build(), response);
  }

  @Override
  public void containerStatus(ContainerStatusRequest request,
      StreamObserver<ContainerStatusResponse> response) {
    CriContainer container = pods.container(request.getContainerId());
    ContainerStatusResponse.Builder status = ContainerStatusResponse.newBuilder()
        .setStatus(CriMessages.status(container));
    if (request.getVerbose()) {
      JsonObject info = new JsonObject();
      info.addProperty("sandboxID", container.sandboxId());
      info.addProperty("pid", container.pid());
      info.addProperty("logPath", container.logPath());
      try {
        info.add("runtimeSpec", pods.spec(container.id()));
      } catch (StatusRuntimeException e) {
        info.addProperty("runtimeSpec", "unavailable: " + e.getStatus().getDescription());
      }
      status.putInfo("info", info.toString());
    }
    reply(response, status.build());
  }

  @Override
  public void updateContainerResources(UpdateContainerResourcesRequest request,
      StreamObserver<UpdateContainerResourcesResponse> response) {
    pods.updateResources(request.getContainerId(), request.getLinux());
    reply(response, UpdateContainerResourcesResponse.getDefaultInstance());
  }

  @Override
  public void reopenContainerLog(ReopenContainerLogRequest request,
      StreamObserver<ReopenContainerLogResponse> response) {
    pods.reopenLog(request.getContainerId());
    reply(response, ReopenContainerLogResponse.getDefaultInstance());
  }

  @Override
  public void execSync(ExecSyncRequest request, StreamObserver<ExecSyncResponse> response) {
    PodManager.ExecResult result = pods.execSync(request.getContainerId(),
        request.getCmdList(), request.getTimeout());
    reply(response, ExecSyncResponse.newBuilder().setStdout(ByteString.copyFrom(
        result.stdout())).setStderr(ByteString.copyFrom(result.stderr()))
        .setExitCode(result.exitCode()).build());
  }

  @Override
  public void exec(ExecRequest request, StreamObserver<ExecResponse> response) {
    pods.checkExec(request.getContainerId(), request.getCmdList());
    if (!request.getStdout() && !request.getStderr() && !request.getStdin()) {
      throw new dev.jctr.api.errors.InvalidArgumentException("exec needs one of stdin, stdout"
          + " or stderr");
    }
    String id = pods.container(request.getContainerId()).id();
    String token = requests.add(new StreamRequests.Exec(id, request.getCmdList(),
        request.getTty(), request.getStdin(), request.getStdout(), request.getStderr()));
    reply(response, ExecResponse.newBuilder().setUrl(streams.url("exec", token)).build());
  }

  @Override
  public void attach(AttachRequest request, StreamObserver<AttachResponse> response) {
    if (!request.getStdout() && !request.getStderr() && !request.getStdin()) {
      throw new dev.jctr.api.errors.InvalidArgumentException("attach needs one of stdin,"
          + " stdout or stderr");
    }
    String id = pods.checkAttach(request.getContainerId(), request.getStdin());
    String token = requests.add(new StreamRequests.Attach(id, request.getTty(),
        request.getStdin(), request.getStdout(), request.getStderr()));
    reply(response, AttachResponse.newBuilder().setUrl(streams.url("attach", token)).build());
  }

  @Override
  public void portForward(PortForwardRequest request,
      StreamObserver<PortForwardResponse> response) {
    String netns = pods.checkPortForward(request.getPodSandboxId());
    for (int port : request.getPortList()) {
      if (port <= 0 || port > 65535) {
        throw new dev.jctr.api.errors.InvalidArgumentException("port " + port
            + " is not a TCP port");
      }
    }
    String token = requests.add(new StreamRequests.PortForward(
        pods.sandbox(request.getPodSandboxId()).id(), netns, request.getPortList()));
    reply(response, PortForwardResponse.newBuilder().setUrl(streams.url("portforward", token))
        .build());
  }

  @Override
  public void checkpointContainer(CheckpointContainerRequest request,
      StreamObserver<CheckpointContainerResponse> response) {
    throw new NotImplementedException("CheckpointContainer: jctr has no checkpoint support");
  }

  // ---------------------------------------------------------------- stats

  private ContainerStats stats(CriContainer container) {
    return stats.container(container, pods.cgroupsPath(container.sandboxId(), container.id()),
        id -> {
          try {
            var usage = api.snapshots().usage(UsageRequest.newBuilder()
                .setSnapshotter(config.snapshotter()).setKey(id).build());
            return Optional.of(new long[] {usage.getSize(), usage.getInodes()});
          } catch (StatusRuntimeException e) {
            return Optional.empty();
          }
        });
  }

  @Override
  public void containerStats(ContainerStatsRequest request,
      StreamObserver<ContainerStatsResponse> response) {
    reply(response, ContainerStatsResponse.newBuilder().setStats(stats(pods.container(
        request.getContainerId()))).build());
  }

  private List<ContainerStats> containerStats(ContainerStatsFilter filter) {
    List<ContainerStats> all = new ArrayList<>();
    for (CriContainer container : pods.containers()) {
      if (container.state() != dev.jctr.api.proto.cri.v1.ContainerState.CONTAINER_RUNNING) {
        continue;
      }
      if (filter != null && (!filter.getId().isEmpty()
          && !container.id().startsWith(filter.getId())
          || !filter.getPodSandboxId().isEmpty()
              && !container.sandboxId().startsWith(filter.getPodSandboxId())
          || !labelsMatch(filter.getLabelSelectorMap(), container.config().getLabelsMap()))) {
        continue;
      }
      all.add(stats(container));
    }
    return all;
  }

  @Override
  public void listContainerStats(ListContainerStatsRequest request,
      StreamObserver<ListContainerStatsResponse> response) {
    reply(response, ListContainerStatsResponse.newBuilder().addAllStats(containerStats(
        request.hasFilter() ? request.getFilter() : null)).build());
  }

  @Override
  public void streamContainerStats(StreamContainerStatsRequest request,
      StreamObserver<StreamContainerStatsResponse> response) {
    List<ContainerStats> all = containerStats(request.hasFilter() ? request.getFilter() : null);
    inBatches(all, batch -> StreamContainerStatsResponse.newBuilder()
        .addAllContainerStats(batch).build(), response);
  }

  private PodSandboxStats sandboxStats(PodSandbox sandbox) {
    List<ContainerStats> containers = new ArrayList<>();
    for (CriContainer container : pods.containers()) {
      if (container.sandboxId().equals(sandbox.id()) && container.state()
          == dev.jctr.api.proto.cri.v1.ContainerState.CONTAINER_RUNNING) {
        containers.add(stats(container));
      }
    }
    return stats.sandbox(sandbox, containers, pods.cgroupsPath(sandbox.id(), sandbox.id()));
  }

  @Override
  public void podSandboxStats(PodSandboxStatsRequest request,
      StreamObserver<PodSandboxStatsResponse> response) {
    reply(response, PodSandboxStatsResponse.newBuilder().setStats(sandboxStats(pods.sandbox(
        request.getPodSandboxId()))).build());
  }

  private List<PodSandboxStats> sandboxStats(PodSandboxStatsFilter filter) {
    List<PodSandboxStats> all = new ArrayList<>();
    for (PodSandbox sandbox : pods.sandboxes()) {
      if (sandbox.state() != dev.jctr.api.proto.cri.v1.PodSandboxState.SANDBOX_READY) {
        continue;
      }
      if (filter != null && (!filter.getId().isEmpty() && !sandbox.id().startsWith(
          filter.getId()) || !labelsMatch(filter.getLabelSelectorMap(),
          sandbox.config().getLabelsMap()))) {
        continue;
      }
      all.add(sandboxStats(sandbox));
    }
    return all;
  }

  @Override
  public void listPodSandboxStats(ListPodSandboxStatsRequest request,
      StreamObserver<ListPodSandboxStatsResponse> response) {
    reply(response, ListPodSandboxStatsResponse.newBuilder().addAllStats(sandboxStats(
        request.hasFilter() ? request.getFilter() : null)).build());
  }

  @Override
  public void streamPodSandboxStats(StreamPodSandboxStatsRequest request,
      StreamObserver<StreamPodSandboxStatsResponse> response) {
    List<PodSandboxStats> all = sandboxStats(request.hasFilter() ? request.getFilter() : null);
    inBatches(all, batch -> StreamPodSandboxStatsResponse.newBuilder()
        .addAllPodSandboxStats(batch).build(), response);
  }

  @Override
  public void listMetricDescriptors(ListMetricDescriptorsRequest request,
      StreamObserver<ListMetricDescriptorsResponse> response) {
    // no Prometheus-style pod metrics beyond the stats above, as containerd 1.x
    reply(response, ListMetricDescriptorsResponse.getDefaultInstance());
  }

  @Override
  public void listPodSandboxMetrics(ListPodSandboxMetricsRequest request,
      StreamObserver<ListPodSandboxMetricsResponse> response) {
    reply(response, ListPodSandboxMetricsResponse.getDefaultInstance());
  }

  @Override
  public void getContainerEvents(GetEventsRequest request,
      StreamObserver<ContainerEventResponse> response) {
    events.subscribe((ServerCallStreamObserver<ContainerEventResponse>) response);
  }
}
