package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.proto.containerd.services.leases.v1.DeleteRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.LeasesGrpc;
import dev.jctr.api.proto.containerd.services.leases.v1.ListResourcesRequest;
import dev.jctr.api.proto.cri.v1.AttachRequest;
import dev.jctr.api.proto.cri.v1.ContainerConfig;
import dev.jctr.api.proto.cri.v1.ContainerMetadata;
import dev.jctr.api.proto.cri.v1.ContainerState;
import dev.jctr.api.proto.cri.v1.ContainerStatsRequest;
import dev.jctr.api.proto.cri.v1.ContainerStatusRequest;
import dev.jctr.api.proto.cri.v1.CreateContainerRequest;
import dev.jctr.api.proto.cri.v1.DNSConfig;
import dev.jctr.api.proto.cri.v1.ExecRequest;
import dev.jctr.api.proto.cri.v1.ExecSyncRequest;
import dev.jctr.api.proto.cri.v1.ExecSyncResponse;
import dev.jctr.api.proto.cri.v1.ImageServiceGrpc;
import dev.jctr.api.proto.cri.v1.ImageSpec;
import dev.jctr.api.proto.cri.v1.KeyValue;
import dev.jctr.api.proto.cri.v1.LinuxContainerResources;
import dev.jctr.api.proto.cri.v1.LinuxPodSandboxConfig;
import dev.jctr.api.proto.cri.v1.ListContainersRequest;
import dev.jctr.api.proto.cri.v1.ListPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.Mount;
import dev.jctr.api.proto.cri.v1.PodSandboxConfig;
import dev.jctr.api.proto.cri.v1.PodSandboxMetadata;
import dev.jctr.api.proto.cri.v1.PodSandboxState;
import dev.jctr.api.proto.cri.v1.PodSandboxStatsRequest;
import dev.jctr.api.proto.cri.v1.PodSandboxStatusRequest;
import dev.jctr.api.proto.cri.v1.PortForwardRequest;
import dev.jctr.api.proto.cri.v1.PortMapping;
import dev.jctr.api.proto.cri.v1.Protocol;
import dev.jctr.api.proto.cri.v1.PullImageRequest;
import dev.jctr.api.proto.cri.v1.RemoveContainerRequest;
import dev.jctr.api.proto.cri.v1.RemovePodSandboxRequest;
import dev.jctr.api.proto.cri.v1.ReopenContainerLogRequest;
import dev.jctr.api.proto.cri.v1.RunPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.RuntimeServiceGrpc;
import dev.jctr.api.proto.cri.v1.RuntimeServiceGrpc.RuntimeServiceBlockingStub;
import dev.jctr.api.proto.cri.v1.StartContainerRequest;
import dev.jctr.api.proto.cri.v1.StatusRequest;
import dev.jctr.api.proto.cri.v1.StopContainerRequest;
import dev.jctr.api.proto.cri.v1.StopPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.UpdateContainerResourcesRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kubelet's pod lifecycle over jctrd's socket with the project's generated CRI client,
 * real runc, overlayfs and Debian's CNI plugins (bridge, host-local, portmap, loopback):
 * pods on a bridge reach each other, a host port reaches a pod, ExecSync, CRI logs and their
 * reopening, stats, resources, idempotent stop/remove, bad input, a daemon restart, and a
 * runtime handler whose runc options run its pods on crun.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CriPodsProcessTest {

  private static final Duration READY = Duration.ofSeconds(30);

  @TempDir static Path shared;
  private static DaemonProcess daemon;
  private static DaemonClient client;
  private static LocalRegistry registry;
  private static RuntimeServiceBlockingStub runtime;
  private static String busybox;
  private static String bridge;
  private static String subnet;
  private static Path config;
  private static String ctr;

  @BeforeAll
  static void startDaemon() throws Exception {
    ctr = Commands.requireTool("ctr", "containerd");
    Commands.requireTool("runc", "runc");
    Commands.requireTool("skopeo", "skopeo");
    if (!Files.isExecutable(Path.of("/usr/lib/cni/bridge"))) {
      throw new AssertionError("Debian's CNI plugins are missing: apt-get install -y"
          + " containernetworking-plugins (scripts/install-deps.sh does)");
    }
    int third = ThreadLocalRandom.current().nextInt(100, 250);
    subnet = "10.231." + third;
    bridge = "jctrcri" + third;
    Path netd = Files.createDirectories(shared.resolve("net.d"));
    Files.writeString(netd.resolve("10-jctr.conflist"), """
        {"cniVersion": "1.0.0", "name": "jctr-itest", "plugins": [
          {"type": "bridge", "bridge": "%s", "isGateway": true, "ipMasq": true,
           "hairpinMode": true,
           "ipam": {"type": "host-local", "ranges": [[{"subnet": "%s.0/24"}]],
                    "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "%s"}},
          {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}
        ]}
        """.formatted(bridge, subnet, shared.resolve("ipam")));
    config = shared.resolve("config.toml");
    Files.writeString(config, """
        version = 2
        [plugins."io.containerd.grpc.v1.cri"]
          sandbox_image = "registry.k8s.io/pause:3.10"
        [plugins."io.containerd.grpc.v1.cri".cni]
          conf_dir = "%s"
          bin_dir = "/usr/lib/cni"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun]
          runtime_type = "io.containerd.jctr.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]
          BinaryName = "crun"
        """.formatted(netd));
    Path images = Files.createDirectories(shared.resolve("images"));
    Path pause = Distribution.pauseImage(images);
    Path box = Distribution.busyboxImage(images);
    daemon = start();
    daemon.jctr("-n", "k8s.io", "images", "import", pause.toString()).requireSuccess("import");
    registry = LocalRegistry.start(Files.createDirectories(shared.resolve("registry")));
    busybox = registry.host() + "/library/busybox:1.36";
    Commands.run(Duration.ofMinutes(2), List.of("skopeo", "copy", "--quiet",
        "--dest-tls-verify=false", "oci-archive:" + box, "docker://" + busybox))
        .requireSuccess("skopeo copy to the local registry");
  }

  private static DaemonProcess start() throws Exception {
    DaemonProcess started = DaemonProcess.start(shared, "--config", config.toString())
        .awaitReady(READY).awaitServing(READY, "images", "ls");
    if (client != null) {
      client.close();
    }
    client = new DaemonClient(started.socket());
    runtime = RuntimeServiceGrpc.newBlockingStub(client.channel());
    return started;
  }

  @AfterAll
  static void stopDaemon() throws Exception {
    try {
      if (runtime != null) {
        for (var pod : runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance())
            .getItemsList()) {
          runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder()
              .setPodSandboxId(pod.getId()).build());
        }
      }
    } finally {
      if (client != null) {
        client.close();
      }
      if (daemon != null) {
        daemon.close();
      }
      if (registry != null) {
        registry.close();
      }
      Commands.run(Duration.ofSeconds(10), List.of("ip", "link", "del", bridge));
      removePodCgroups();
    }
  }

  /**
   * The pod cgroups named by the test's cgroup parents: the kubelet's to remove, so ours. After
   * a failed test, containers may still run in them (the tests assert that none do): those are
   * this test's own, and are killed so that the next run starts clean.
   */
  private static void removePodCgroups() throws IOException {
    try (var controllers = Files.list(Path.of("/sys/fs/cgroup"))) {
      for (Path controller : controllers.toList()) {
        Path parent = controller.resolve("jctr-itest");
        if (!Files.isDirectory(parent) || Files.isSymbolicLink(controller)) {
          continue;
        }
        List<Path> dirs;
        try (var walk = Files.walk(parent)) {
          dirs = walk.filter(Files::isDirectory)
              .sorted(java.util.Comparator.reverseOrder()).toList();
        }
        for (Path dir : dirs) {
          Path procs = dir.resolve("cgroup.procs");
          if (Files.isReadable(procs)) {
            for (String pid : Files.readAllLines(procs)) {
              if (!pid.isBlank()) {
                ProcessHandle.of(Long.parseLong(pid.strip()))
                    .ifPresent(ProcessHandle::destroyForcibly);
              }
            }
          }
        }
        for (Path dir : dirs) {
          for (int i = 0; i < 50; i++) { // rmdir: the kernel refuses while anything is in it
            try {
              Files.deleteIfExists(dir);
              break;
            } catch (java.nio.file.FileSystemException busy) {
              if (i == 49) {
                throw busy;
              }
              try {
                Thread.sleep(20);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
              }
            }
          }
        }
      }
    }
  }

  private static PodSandboxConfig.Builder pod(String name, String uid) {
    return PodSandboxConfig.newBuilder()
        .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("default")
            .setUid(uid))
        .setHostname(name)
        .setLogDirectory(shared.resolve("logs/" + uid).toString())
        .putLabels("app", name)
        .setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent("/jctr-itest/pod" + uid));
  }

  private static ContainerConfig.Builder container(String name, String... command) {
    return ContainerConfig.newBuilder()
        .setMetadata(ContainerMetadata.newBuilder().setName(name))
        .setImage(ImageSpec.newBuilder().setImage(busybox))
        .addAllCommand(List.of(command))
        .setLogPath(name + "/0.log")
        .putLabels("io.kubernetes.container.name", name);
  }

  private static String run(PodSandboxConfig config) {
    return runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build())
        .getPodSandboxId();
  }

  private static String create(String pod, PodSandboxConfig podConfig,
      ContainerConfig config) {
    return runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
        .setConfig(config).setSandboxConfig(podConfig).build()).getContainerId();
  }

  private static ExecSyncResponse exec(String id, long timeout, String... cmd) {
    return runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(id)
        .addAllCmd(List.of(cmd)).setTimeout(timeout).build());
  }

  private static String ip(String pod) {
    return runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod)
        .build()).getStatus().getNetwork().getIp();
  }

  private static ContainerState state(String id) {
    return runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id)
        .build()).getStatus().getState();
  }

  /** How many of the daemon's jctr shims serve pod slots (pid files under state/s). */
  private static long slotShims() {
    try (var files = Files.list(shared.resolve("state/s"))) {
      return files.filter(f -> f.toString().endsWith(".pid")).count();
    } catch (IOException e) {
      return 0;
    }
  }

  private static void await(String what, Supplier<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what + "\n" + daemon.log());
      }
      Thread.sleep(100);
    }
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** A serving script: a file for httpd, output on both streams, a tick every 0.2 s. */
  private static final String SERVER = "trap 'exit 0' TERM; echo started; echo oops >&2;"
      + " mkdir -p /www; echo hello-from-pod > /www/index.html; httpd -p 8080 -h /www;"
      + " while true; do echo tick; sleep 0.2; done";

  @Test
  @Order(1)
  void aPodRunsServesExecsLogsAndGoesAway() throws Exception {
    var images = ImageServiceGrpc.newBlockingStub(client.channel());
    String imageId = images.pullImage(PullImageRequest.newBuilder()
        .setImage(ImageSpec.newBuilder().setImage(busybox)).build()).getImageRef();
    assertTrue(imageId.startsWith("sha256:"), imageId);
    assertTrue(runtime.status(StatusRequest.getDefaultInstance()).getStatus()
        .getConditionsList().stream().allMatch(c -> c.getStatus()), "runtime and network ready");
    // the kubelet's Status has the pod shims (one per slot, 4) start before any pod asks
    await("the 4 pod shims started ahead", () -> slotShims() == 4);

    int hostPort = freePort();
    PodSandboxConfig webConfig = pod("web", "uid-web")
        .addPortMappings(PortMapping.newBuilder().setProtocol(Protocol.TCP)
            .setContainerPort(8080).setHostPort(hostPort))
        .setDnsConfig(DNSConfig.newBuilder().addServers("10.0.0.10")
            .addSearches("svc.cluster.local")).build();
    String web = run(webConfig);
    assertEquals(64, web.length());
    String webIp = ip(web);
    assertTrue(webIp.startsWith(subnet + "."), webIp);

    String server = create(web, webConfig, container("server", "sh", "-c", SERVER)
        .addEnvs(KeyValue.newBuilder().setKey("GREETING")
            .setValue(com.google.protobuf.ByteString.copyFromUtf8("hi"))).build());
    assertEquals(ContainerState.CONTAINER_CREATED, state(server));
    runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(server).build());
    assertEquals(ContainerState.CONTAINER_RUNNING, state(server));

    // ExecSync: output, exit code, pod files, environment, timeout
    ExecSyncResponse hostname = exec(server, 10, "cat", "/etc/hostname");
    assertEquals("web\n", hostname.getStdout().toStringUtf8());
    ExecSyncResponse mixed = exec(server, 10, "sh", "-c", "echo out; echo err >&2; exit 3");
    assertEquals("out\n", mixed.getStdout().toStringUtf8());
    assertEquals("err\n", mixed.getStderr().toStringUtf8());
    assertEquals(3, mixed.getExitCode());
    assertTrue(exec(server, 10, "cat", "/etc/resolv.conf").getStdout().toStringUtf8()
        .contains("nameserver 10.0.0.10"));
    assertEquals("hi\n", exec(server, 10, "sh", "-c", "echo $GREETING").getStdout()
        .toStringUtf8());
    long before = System.nanoTime();
    StatusRuntimeException slow = assertThrows(StatusRuntimeException.class,
        () -> exec(server, 1, "sleep", "30"));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, slow.getStatus().getCode());
    assertTrue(System.nanoTime() - before < Duration.ofSeconds(8).toNanos(), "timed out fast");

    // Exec and PortForward through the streaming server (WebSocket, v5 channel protocol)
    String execUrl = runtime.exec(ExecRequest.newBuilder().setContainerId(server)
        .addAllCmd(List.of("sh", "-c", "read line; echo got $line; echo to-err >&2; exit 5"))
        .setStdin(true).setStdout(true).setStderr(true).build()).getUrl();
    assertTrue(execUrl.startsWith("http://127.0.0.1:"), execUrl);
    ChannelWebSocket session = ChannelWebSocket.open(execUrl, "v5.channel.k8s.io");
    assertEquals("v5.channel.k8s.io", session.protocol());
    session.send(0, "hello\n");
    session.awaitClose();
    assertEquals("got hello\n", session.channel(1));
    assertEquals("to-err\n", session.channel(2));
    assertTrue(session.channel(3).contains("NonZeroExitCode")
        && session.channel(3).contains("\"message\":\"5\""), session.channel(3));
    // a URL serves once
    assertThrows(java.util.concurrent.ExecutionException.class,
        () -> ChannelWebSocket.open(execUrl, "v5.channel.k8s.io"));
    String forwardUrl = runtime.portForward(PortForwardRequest.newBuilder()
        .setPodSandboxId(web).addPort(8080).build()).getUrl();
    ChannelWebSocket forward = ChannelWebSocket.open(forwardUrl, "v4.channel.k8s.io");
    forward.send(0, "GET / HTTP/1.0\r\n\r\n");
    forward.awaitClose();
    String answer = forward.channel(0);
    assertTrue(answer.contains("200 OK") && answer.endsWith("hello-from-pod\n"), answer);

    // the same over SPDY/3.1 (kubectl's and crictl's transport)
    try (SpdyStreamClient spdy = SpdyStreamClient.open(runtime.exec(ExecRequest.newBuilder()
        .setContainerId(server).addAllCmd(List.of("sh", "-c",
            "read line; echo got $line; echo to-err >&2; exit 5"))
        .setStdin(true).setStdout(true).setStderr(true).build()).getUrl(),
        "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")) {
      assertEquals("v4.channel.k8s.io", spdy.protocol());
      int error = spdy.openStream(Map.of("streamtype", "error"), true);
      int stdin = spdy.openStream(Map.of("streamtype", "stdin"), false);
      int stdout = spdy.openStream(Map.of("streamtype", "stdout"), true);
      int stderr = spdy.openStream(Map.of("streamtype", "stderr"), true);
      spdy.send(stdin, "spdy\n", true);
      spdy.awaitEnd(error);
      spdy.awaitEnd(stdout);
      assertEquals("got spdy\n", spdy.received(stdout));
      assertEquals("to-err\n", spdy.received(stderr));
      assertTrue(spdy.received(error).contains("NonZeroExitCode")
          && spdy.received(error).contains("\"message\":\"5\""), spdy.received(error));
      spdy.awaitClose();
    }
    try (SpdyStreamClient spdy = SpdyStreamClient.open(runtime.portForward(
        PortForwardRequest.newBuilder().setPodSandboxId(web).addPort(8080).build()).getUrl(),
        "portforward.k8s.io")) {
      assertEquals("portforward.k8s.io", spdy.protocol());
      int error = spdy.openStream(Map.of("streamtype", "error", "port", "8080",
          "requestid", "0"), true);
      int data = spdy.openStream(Map.of("streamtype", "data", "port", "8080",
          "requestid", "0"), false);
      spdy.send(data, "GET / HTTP/1.0\r\n\r\n", false);
      spdy.awaitEnd(data);
      String viaSpdy = spdy.received(data);
      assertTrue(viaSpdy.contains("200 OK") && viaSpdy.endsWith("hello-from-pod\n"), viaSpdy);
      assertEquals("", spdy.received(error));
      // a port PortForward did not ask for gets an error on its error stream
      int otherError = spdy.openStream(Map.of("streamtype", "error", "port", "9999",
          "requestid", "1"), true);
      int other = spdy.openStream(Map.of("streamtype", "data", "port", "9999",
          "requestid", "1"), false);
      spdy.awaitEnd(other);
      spdy.awaitEnd(otherError);
      assertTrue(spdy.received(otherError).contains("9999"), spdy.received(otherError));
    }
    // a client offering only protocols the server lacks is refused, naming them
    IllegalStateException refused = assertThrows(IllegalStateException.class, () ->
        SpdyStreamClient.open(runtime.exec(ExecRequest.newBuilder().setContainerId(server)
            .addCmd("true").setStdout(true).build()).getUrl(), "v9.channel.k8s.io"));
    assertTrue(refused.getMessage().contains("403") && refused.getMessage()
        .contains("v9.channel.k8s.io"), refused.getMessage());

    // CRI log format at the path the kubelet gave
    Path log = shared.resolve("logs/uid-web/server/0.log");
    await("the log", () -> read(log).contains(" stderr F oops")
        && read(log).contains(" stdout F started"));
    String firstLine = read(log).lines().findFirst().orElseThrow();
    assertTrue(firstLine.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z"
        + " (stdout|stderr) F .*"), firstLine);

    // a second pod reaches the first over the bridge
    PodSandboxConfig clientConfig = pod("client", "uid-client").build();
    String clientPod = run(clientConfig);
    String clientBox = create(clientPod, clientConfig, container("box", "sleep", "3600")
        .build());
    runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(clientBox)
        .build());
    ExecSyncResponse fetched = exec(clientBox, 20, "wget", "-q", "-O", "-",
        "http://" + webIp + ":8080/");
    assertEquals("hello-from-pod\n", fetched.getStdout().toStringUtf8(),
        fetched.getStderr().toStringUtf8());

    // the host port reaches the pod (portmap)
    String hostAddress = hostAddress();
    assertEquals("hello-from-pod\n", httpGet("http://" + hostAddress + ":" + hostPort + "/"));

    // stats from cgroups
    var stats = runtime.containerStats(ContainerStatsRequest.newBuilder()
        .setContainerId(server).build()).getStats();
    assertTrue(stats.getMemory().getWorkingSetBytes().getValue() > 0, stats.toString());
    assertTrue(stats.getCpu().getUsageCoreNanoSeconds().getValue() > 0, stats.toString());
    var podStats = runtime.podSandboxStats(PodSandboxStatsRequest.newBuilder()
        .setPodSandboxId(web).build()).getStats();
    assertEquals(1, podStats.getLinux().getContainersCount());
    assertTrue(podStats.getLinux().getNetwork().getDefaultInterface().getRxBytes().getValue()
        > 0, podStats.toString());

    // resources reach the cgroup
    runtime.updateContainerResources(UpdateContainerResourcesRequest.newBuilder()
        .setContainerId(server).setLinux(LinuxContainerResources.newBuilder()
            .setMemoryLimitInBytes(64L << 20)).build());
    assertEquals(String.valueOf(64L << 20), Files.readString(Path.of(
        "/sys/fs/cgroup/memory/jctr-itest/poduid-web/" + server + "/memory.limit_in_bytes"))
        .strip());

    // k8s.io holds the pods and containers; moby does not see them
    String k8s = Commands.run(Duration.ofSeconds(30), List.of(ctr, "--address",
        daemon.socket().toString(), "-n", "k8s.io", "containers", "ls")).requireSuccess("ctr")
        .stdout();
    for (String id : List.of(web, server, clientPod, clientBox)) {
      assertTrue(k8s.contains(id), id + " in\n" + k8s);
    }
    String moby = Commands.run(Duration.ofSeconds(30), List.of(ctr, "--address",
        daemon.socket().toString(), "-n", "moby", "containers", "ls", "-q"))
        .requireSuccess("ctr").stdout();
    assertEquals("", moby.strip());
    assertTrue(daemon.jctr("containers", "list", "--namespace", "k8s.io").stdout()
        .contains(server));

    // log rotation: the kubelet renames the file, then asks for a new one
    Files.move(log, log.resolveSibling("0.log.1"));
    runtime.reopenContainerLog(ReopenContainerLogRequest.newBuilder().setContainerId(server)
        .build());
    await("ticks in the reopened log", () -> read(log).contains(" stdout F tick"));

    // stop: SIGTERM, exit 0; stop and remove are idempotent
    runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(server)
        .setTimeout(10).build());
    var stopped = runtime.containerStatus(ContainerStatusRequest.newBuilder()
        .setContainerId(server).build()).getStatus();
    assertEquals(ContainerState.CONTAINER_EXITED, stopped.getState());
    assertEquals(0, stopped.getExitCode());
    assertEquals("Completed", stopped.getReason());
    assertTrue(stopped.getFinishedAt() > stopped.getStartedAt());
    runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(server)
        .setTimeout(10).build());
    runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(server).build());
    runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(server).build());
    StatusRuntimeException gone = assertThrows(StatusRuntimeException.class, () -> state(server));
    assertEquals(Status.Code.NOT_FOUND, gone.getStatus().getCode());

    for (String pod : List.of(web, clientPod)) {
      runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
      assertEquals(PodSandboxState.SANDBOX_NOTREADY, runtime.podSandboxStatus(
          PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build()).getStatus()
          .getState());
      runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
      runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod)
          .build());
      runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod)
          .build());
      runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
    }
    assertEquals(0, runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance())
        .getItemsCount());
    assertEquals(0, runtime.listContainers(ListContainersRequest.getDefaultInstance())
        .getContainersCount());
    assertNothingLeft();
    assertTrue(Files.exists(log.resolveSibling("0.log.1")), "logs stay for the kubelet");
  }

  @Test
  @Order(2)
  void badInputGetsClearErrorsAndLeavesNothing() throws Exception {
    StatusRuntimeException noMetadata = assertThrows(StatusRuntimeException.class,
        () -> run(PodSandboxConfig.getDefaultInstance()));
    assertEquals(Status.Code.INVALID_ARGUMENT, noMetadata.getStatus().getCode());
    StatusRuntimeException handler = assertThrows(StatusRuntimeException.class,
        () -> runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(
            pod("odd", "uid-odd")).setRuntimeHandler("kata-nothere").build()));
    assertEquals(Status.Code.NOT_FOUND, handler.getStatus().getCode());
    assertTrue(handler.getStatus().getDescription().contains("kata-nothere"),
        handler.getMessage());

    // the lease that holds snapshots being created: made again when someone deleted it
    var leases = LeasesGrpc.newBlockingStub(client.in("k8s.io"));
    leases.delete(DeleteRequest.newBuilder().setId("jctr.cri.creating").build());
    PodSandboxConfig podConfig = pod("bad", "uid-bad").build();
    String pod = run(podConfig);
    StatusRuntimeException image = assertThrows(StatusRuntimeException.class,
        () -> create(pod, podConfig, container("x", "true").setImage(ImageSpec.newBuilder()
            .setImage("registry.example/absent:1")).build()));
    assertEquals(Status.Code.NOT_FOUND, image.getStatus().getCode());
    assertTrue(image.getStatus().getDescription().contains("registry.example/absent:1"),
        image.getMessage());
    StatusRuntimeException mount = assertThrows(StatusRuntimeException.class,
        () -> create(pod, podConfig, container("y", "true").addMounts(Mount.newBuilder()
            .setHostPath("/nonexistent/jctr-data").setContainerPath("/data")).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, mount.getStatus().getCode());
    assertTrue(mount.getStatus().getDescription().contains("/nonexistent/jctr-data"),
        mount.getMessage());
    StatusRuntimeException dup = assertThrows(StatusRuntimeException.class, () -> run(podConfig));
    assertEquals(Status.Code.ALREADY_EXISTS, dup.getStatus().getCode());
    StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
        () -> runtime.startContainer(StartContainerRequest.newBuilder()
            .setContainerId("0123abcd").build()));
    assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());

    // created or failed, no snapshot stays in the creation lease
    await("the creation lease empty", () -> leases.listResources(ListResourcesRequest
        .newBuilder().setId("jctr.cri.creating").build()).getResourcesCount() == 0);
    // only the pod's own sandbox is in k8s.io: the failed containers left no record
    String records = daemon.jctr("containers", "list", "--namespace", "k8s.io", "-q").stdout();
    assertEquals(List.of(pod), records.lines().toList());
    String snapshots = daemon.jctr("-n", "k8s.io", "snapshots", "ls").stdout();
    assertEquals(1, snapshots.lines().filter(l -> l.contains("Active")).count(), snapshots);
    runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
    assertNothingLeft();
  }

  @Test
  @Order(3)
  void podsAndContainersSurviveADaemonRestart() throws Exception {
    PodSandboxConfig podConfig = pod("kept", "uid-kept").build();
    String pod = run(podConfig);
    String box = create(pod, podConfig, container("ticker", "sh", "-c", SERVER).build());
    runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(box).build());
    String short1 = create(pod, podConfig, container("short", "sh", "-c", "sleep 2; exit 4")
        .build());
    runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(short1).build());
    Path log = shared.resolve("logs/uid-kept/ticker/0.log");
    await("ticks", () -> read(log).contains("tick"));
    String pidBefore = exec(box, 10, "cat", "/proc/1/stat").getStdout().toStringUtf8()
        .split(" ")[0];

    daemon.kill();
    Thread.sleep(2500); // "short" exits while jctrd is down
    long linesBefore = read(log).lines().count();
    daemon = start();

    await("the pod listed ready", () -> runtime.listPodSandbox(ListPodSandboxRequest
        .getDefaultInstance()).getItemsList().stream().anyMatch(p -> p.getId().equals(pod)
        && p.getState() == PodSandboxState.SANDBOX_READY));
    assertEquals(ContainerState.CONTAINER_RUNNING, state(box));
    var exited = runtime.containerStatus(ContainerStatusRequest.newBuilder()
        .setContainerId(short1).build()).getStatus();
    assertEquals(ContainerState.CONTAINER_EXITED, exited.getState());
    assertEquals(4, exited.getExitCode());
    assertEquals(pidBefore, exec(box, 10, "cat", "/proc/1/stat").getStdout().toStringUtf8()
        .split(" ")[0], "the same process");
    await("the log continues", () -> read(log).lines().count() > linesBefore + 3);

    runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
    assertNotEquals(ContainerState.CONTAINER_RUNNING, state(box));
    runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
    assertNothingLeft();
  }

  @Test
  @Order(4)
  void attachCarriesAContainersOwnStdio() throws Exception {
    PodSandboxConfig config = pod("attach", "uid-attach").build();
    String pod = run(config);
    String echo = create(pod, config, container("echo", "sh", "-c",
        "while read line; do echo out:$line; echo err:$line >&2; done").setStdin(true).build());
    runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(echo).build());
    String url = runtime.attach(AttachRequest.newBuilder().setContainerId(echo).setStdin(true)
        .setStdout(true).setStderr(true).build()).getUrl();
    assertTrue(url.contains("/attach/"), url);
    ChannelWebSocket first = ChannelWebSocket.open(url, "v5.channel.k8s.io");
    first.send(0, "one\n");
    await("the container's answer on stdout and stderr", () -> first.channel(1)
        .equals("out:one\n") && first.channel(2).equals("err:one\n"));
    first.close();
    // detaching leaves the container running; the log has everything
    Path log = shared.resolve("logs/uid-attach/echo/0.log");
    await("the log", () -> read(log).contains(" stdout F out:one")
        && read(log).contains(" stderr F err:one"));
    assertEquals(ContainerState.CONTAINER_RUNNING, state(echo));
    ChannelWebSocket second = ChannelWebSocket.open(runtime.attach(AttachRequest.newBuilder()
        .setContainerId(echo).setStdin(true).setStdout(true).build()).getUrl(),
        "v5.channel.k8s.io");
    second.send(0, "two\n");
    await("the second client's answer", () -> second.channel(1).equals("out:two\n"));
    assertEquals("", second.channel(2), "stderr was not asked for");
    second.close();
    try (SpdyStreamClient spdy = SpdyStreamClient.open(runtime.attach(AttachRequest
        .newBuilder().setContainerId(echo).setStdin(true).setStdout(true).build()).getUrl(),
        "v4.channel.k8s.io")) {
      spdy.openStream(Map.of("streamtype", "error"), true);
      int stdin = spdy.openStream(Map.of("streamtype", "stdin"), false);
      int stdout = spdy.openStream(Map.of("streamtype", "stdout"), true);
      spdy.send(stdin, "three\n", false);
      await("the answer over SPDY", () -> spdy.received(stdout).equals("out:three\n"));
    }
    await("the container still running after the SPDY client left", () -> read(log)
        .contains(" stdout F out:three") && state(echo) == ContainerState.CONTAINER_RUNNING);

    // stdin_once: the container's stdin ends when its client leaves
    String once = create(pod, config, container("once", "sh", "-c",
        "cat; echo after-eof").setStdin(true).setStdinOnce(true).build());
    runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(once).build());
    ChannelWebSocket client = ChannelWebSocket.open(runtime.attach(AttachRequest.newBuilder()
        .setContainerId(once).setStdin(true).setStdout(true).build()).getUrl(),
        "v5.channel.k8s.io");
    client.send(0, "abc\n");
    await("cat's copy", () -> client.channel(1).equals("abc\n"));
    client.close();
    await("the container's end after its stdin's", () -> state(once)
        == ContainerState.CONTAINER_EXITED);
    await("its last words in the log", () -> read(shared.resolve(
        "logs/uid-attach/once/0.log")).contains(" stdout F after-eof"));

    // bad input: stdin of a container made without, an exited container, nothing asked for
    String quiet = create(pod, config, container("quiet", "sleep", "3600").build());
    runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(quiet).build());
    StatusRuntimeException noStdin = assertThrows(StatusRuntimeException.class, () ->
        runtime.attach(AttachRequest.newBuilder().setContainerId(quiet).setStdin(true)
            .setStdout(true).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, noStdin.getStatus().getCode());
    assertTrue(noStdin.getStatus().getDescription().contains("without stdin"),
        noStdin.getStatus().getDescription());
    StatusRuntimeException exited = assertThrows(StatusRuntimeException.class, () ->
        runtime.attach(AttachRequest.newBuilder().setContainerId(once).setStdout(true)
            .build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, exited.getStatus().getCode());
    StatusRuntimeException nothing = assertThrows(StatusRuntimeException.class, () ->
        runtime.attach(AttachRequest.newBuilder().setContainerId(quiet).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, nothing.getStatus().getCode());

    runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
    runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
    assertNothingLeft();
  }

  /**
   * Runtime handler "crun" (config.toml: jctr's shim, options BinaryName = "crun"): the pod's
   * sandbox and its containers run on crun, and ExecSync execs through it.
   */
  @Test
  @Order(5)
  void aHandlersBinaryNameRunsItsPodOnCrun() throws Exception {
    String crun = Crun.require();
    ImageServiceGrpc.newBlockingStub(client.channel()).pullImage(PullImageRequest.newBuilder()
        .setImage(ImageSpec.newBuilder().setImage(busybox)).build()); // a no-op after test 1
    PodSandboxConfig config = pod("crun", "uid-crun").build();
    String pod = runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config)
        .setRuntimeHandler("crun").build()).getPodSandboxId();
    String box = create(pod, config, container("sleeper", "sleep", "3600").build());
    runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(box).build());
    Path root = Crun.jctrShimRoot(shared, "k8s.io");
    Crun.assertRunning(crun, root, pod, 0);
    Crun.assertRunning(crun, root, box, 0);
    assertEquals("on-crun", exec(box, 10, "echo", "on-crun").getStdout().toStringUtf8()
        .strip());

    runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
    runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
    assertNothingLeft();
  }

  /** No netns pin, shm mount or overlay of ours, no CRI directories, no pod cgroups. */
  private static void assertNothingLeft() throws Exception {
    await("no mounts under the test's directories", () -> read(Path.of("/proc/self/mountinfo"))
        .lines().noneMatch(l -> l.contains(shared.toString())));
    Path netns = shared.resolve("state/io.containerd.grpc.v1.cri/netns");
    assertTrue(!Files.exists(netns) || Files.list(netns).findAny().isEmpty(), "netns pins");
    Path sandboxes = shared.resolve("root/io.containerd.grpc.v1.cri/sandboxes");
    assertTrue(!Files.exists(sandboxes) || Files.list(sandboxes).findAny().isEmpty(),
        "sandbox directories");
    Path cgroups = Path.of("/sys/fs/cgroup/memory/jctr-itest");
    if (Files.exists(cgroups)) {
      try (var pods = Files.list(cgroups)) {
        for (Path podCgroup : pods.filter(Files::isDirectory).toList()) {
          try (var children = Files.list(podCgroup)) {
            assertFalse(children.anyMatch(Files::isDirectory), "container cgroups left in "
                + podCgroup);
          }
        }
      }
    }
  }

  private static int freePort() throws IOException {
    try (var socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** An address of this host that is not loopback and not one of the pods' bridge. */
  private static String hostAddress() throws IOException {
    return java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces()).stream()
        .filter(i -> !i.getName().equals(bridge) && !i.getName().startsWith("veth"))
        .flatMap(i -> java.util.Collections.list(i.getInetAddresses()).stream())
        .filter(a -> a instanceof java.net.Inet4Address && !a.isLoopbackAddress())
        .map(java.net.InetAddress::getHostAddress).findFirst()
        .orElseThrow(() -> new AssertionError("this host has no non-loopback IPv4 address"));
  }

  private static String httpGet(String url) throws IOException {
    HttpURLConnection connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
    connection.setConnectTimeout(5000);
    connection.setReadTimeout(5000);
    try (var in = connection.getInputStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } finally {
      connection.disconnect();
    }
  }
}
