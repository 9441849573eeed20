import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc.ContainersBlockingStub;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Metadata figures for jctrd beside containerd, measured in the same run on temporary roots:
 * with 1000 containers in k8s.io (and 200 in moby), the p50/p90 of a full CLI listing
 * ({@code jctr containers list --namespace k8s.io} and {@code ctr -n k8s.io containers ls}) and
 * of the server-side List and ListStream calls from a warm channel. Run through
 * bench/metadata-bench.sh.
 */
public final class MetadataBench {

  record Subject(String name, List<String> start, Path socket, List<String> listCommand) {}

  public static void main(String[] args) throws Exception {
    Path dist = Path.of(args[0]).toAbsolutePath();
    int containers = Integer.parseInt(args[1]);
    int calls = Integer.parseInt(args[2]);
    Path work = Files.createTempDirectory("jctr-metadata-bench-");
    List<String[]> rows = new ArrayList<>();
    try {
      for (Subject subject : List.of(jctrd(dist, work), containerd(work))) {
        rows.add(measure(subject, containers, calls));
      }
    } finally {
      deleteTree(work);
    }
    System.out.printf("%-11s %16s %16s %14s %14s %18s%n", "daemon", "CLI list p50 ms",
        "CLI list p90 ms", "List p50 ms", "List p90 ms", "ListStream p50 ms");
    for (String[] row : rows) {
      System.out.printf("%-11s %16s %16s %14s %14s %18s%n", (Object[]) row);
    }
    System.out.println("targets (jctrd): CLI list p50 <= 300 ms; List < 20 ms");
    System.out.println("(" + containers + " containers in k8s.io, " + containers / 5
        + " in moby; " + calls + " calls each; " + Runtime.getRuntime().availableProcessors()
        + " CPUs; java " + Runtime.version() + ")");
  }

  private static Subject jctrd(Path dist, Path work) {
    Path dir = work.resolve("jctrd");
    Path socket = dir.resolve("jctrd.sock");
    return new Subject("jctrd",
        List.of(dist.resolve("bin/jctrd").toString(), "--root", dir.resolve("root").toString(),
            "--state", dir.resolve("state").toString(), "--address", socket.toString(),
            "--log-level", "warn"),
        socket,
        List.of(dist.resolve("bin/jctr").toString(), "--address", socket.toString(),
            "containers", "list", "--namespace", "k8s.io"));
  }

  private static Subject containerd(Path work) throws IOException {
    Path dir = work.resolve("containerd");
    Files.createDirectories(dir);
    Path socket = dir.resolve("containerd.sock");
    Path config = dir.resolve("config.toml");
    Files.writeString(config, "version = 2\n");
    return new Subject("containerd",
        List.of(which("containerd"), "--config", config.toString(),
            "--root", dir.resolve("root").toString(), "--state", dir.resolve("state").toString(),
            "--address", socket.toString(), "--log-level", "warn"),
        socket,
        List.of(which("ctr"), "--address", socket.toString(), "-n", "k8s.io", "containers",
            "ls"));
  }

  private static String[] measure(Subject subject, int containers, int calls) throws Exception {
    Process daemon = new ProcessBuilder(subject.start())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    ManagedChannel channel = null;
    try {
      channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(subject.socket().toString()))
          .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext()
          .maxInboundMessageSize(64 << 20).build();
      ContainersBlockingStub k8s = stub(channel, "k8s.io");
      ContainersBlockingStub moby = stub(channel, "moby");
      awaitList(daemon, subject, k8s);
      fill(k8s, "k8s", containers);
      fill(moby, "moby", containers / 5);

      int listed = k8s.list(ListContainersRequest.getDefaultInstance()).getContainersCount();
      if (listed != containers) {
        throw new IllegalStateException(subject.name() + " lists " + listed + " containers");
      }
      List<Double> list = new ArrayList<>();
      List<Double> stream = new ArrayList<>();
      for (int i = 0; i < calls + 10; i++) {
        long start = System.nanoTime();
        k8s.withDeadlineAfter(30, TimeUnit.SECONDS).list(ListContainersRequest.getDefaultInstance());
        double listMs = (System.nanoTime() - start) / 1e6;
        start = System.nanoTime();
        Iterator<?> it = k8s.withDeadlineAfter(30, TimeUnit.SECONDS)
            .listStream(ListContainersRequest.getDefaultInstance());
        while (it.hasNext()) {
          it.next();
        }
        double streamMs = (System.nanoTime() - start) / 1e6;
        if (i >= 10) { // the first calls warm both ends up
          list.add(listMs);
          stream.add(streamMs);
        }
      }

      List<Double> cli = new ArrayList<>();
      for (int i = 0; i < calls + 2; i++) {
        double ms = timeCommand(subject.listCommand(), containers + 1);
        if (i >= 2) { // the first runs may build the CLI's class cache
          cli.add(ms);
        }
      }
      return new String[] {subject.name(), f(percentile(cli, 50)), f(percentile(cli, 90)),
          f(percentile(list, 50)), f(percentile(list, 90)), f(percentile(stream, 50))};
    } finally {
      if (channel != null) {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      daemon.destroy();
      if (!daemon.waitFor(20, TimeUnit.SECONDS)) {
        daemon.destroyForcibly().waitFor();
      }
    }
  }

  private static ContainersBlockingStub stub(ManagedChannel channel, String namespace) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER),
        namespace);
    return ContainersGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /** Containers shaped like the kubelet's: labels, image, runtime, a small JSON spec. */
  private static void fill(ContainersBlockingStub stub, String prefix, int count) {
    Any spec = Any.newBuilder().setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Spec")
        .setValue(ByteString.copyFromUtf8("{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":"
            + "[\"/pause\"],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"}}"))
        .build();
    for (int i = 0; i < count; i++) {
      String id = prefix + "-" + String.format("%064x", (long) i * 7919 + 12345);
      stub.withDeadlineAfter(30, TimeUnit.SECONDS).create(CreateContainerRequest.newBuilder()
          .setContainer(Container.newBuilder().setId(id)
              .setImage("registry.local/team/app-" + (i % 20) + ":1.0")
              .setRuntime(Container.Runtime.newBuilder().setName("io.containerd.runc.v2"))
              .setSpec(spec)
              .setSnapshotter("overlayfs").setSnapshotKey(id)
              .putLabels("io.kubernetes.pod.name", "pod-" + i)
              .putLabels("io.kubernetes.pod.namespace", "default")
              .putLabels("io.cri-containerd.kind", "container"))
          .build());
    }
  }

  private static void awaitList(Process daemon, Subject subject, ContainersBlockingStub stub)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      if (!daemon.isAlive()) {
        throw new IllegalStateException(subject.name() + " exited with " + daemon.exitValue());
      }
      try {
        stub.withDeadlineAfter(2, TimeUnit.SECONDS).list(ListContainersRequest.getDefaultInstance());
        return;
      } catch (RuntimeException e) {
        last = e;
        Thread.sleep(20);
      }
    }
    throw new IllegalStateException(subject.name() + " never served Containers.List", last);
  }

  private static double timeCommand(List<String> command, int expectedLines) throws Exception {
    long start = System.nanoTime();
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    long lines;
    try (var out = process.inputReader()) {
      lines = out.lines().count();
    }
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException("failed: " + command);
    }
    double ms = (System.nanoTime() - start) / 1e6;
    if (lines != expectedLines) {
      throw new IllegalStateException(command + " printed " + lines + " lines, expected "
          + expectedLines);
    }
    return ms;
  }

  private static String f(double ms) {
    return String.format("%.1f", ms);
  }

  private static double percentile(List<Double> values, int p) {
    List<Double> sorted = values.stream().sorted().toList();
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(index, sorted.size() - 1)));
  }

  private static String which(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path candidate = Path.of(dir, tool);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new IllegalStateException(tool + " not found: apt-get install -y containerd");
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
