import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersResponse;
import dev.jctr.cli.transport.GrpcConnection;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Metadata figures for jctrd beside containerd, measured in the same run on temporary roots:
 * with 1000 containers in k8s.io (and 200 in moby), the p50/p90 of a full CLI listing
 * ({@code jctr containers list --namespace k8s.io} and {@code ctr -n k8s.io containers ls}) and
 * of the server-side List and ListStream calls from a warm connection (the CLI's own gRPC
 * transport, so both daemons are measured through the same client, which leaves the responses
 * unparsed). Run through
 * bench/metadata-bench.sh.
 */
public final class MetadataBench {

  record Subject(String name, List<String> start, Path socket, List<String> listCommand) {}

  public static void main(String[] args) throws Exception {
    Path dist = Path.of(args[0]).toAbsolutePath();
    int containers = Integer.parseInt(args[1]);
    int calls = Integer.parseInt(args[2]);
    Path work = Files.createTempDirectory("jctr-metadata-bench-");
    cliCache = Files.createDirectories(work.resolve("cli-cache"));
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
    try {
      Client k8s = new Client(subject.socket(), "k8s.io");
      Client moby = new Client(subject.socket(), "moby");
      awaitList(daemon, subject, k8s);
      fill(k8s, "k8s", containers);
      fill(moby, "moby", containers / 5);

      int listed = k8s.list().getContainersCount();
      if (listed != containers) {
        throw new IllegalStateException(subject.name() + " lists " + listed + " containers");
      }
      List<Double> list = new ArrayList<>();
      List<Double> stream = new ArrayList<>();
      for (int i = 0; i < calls + WARM_UP; i++) {
        long start = System.nanoTime();
        k8s.call(RAW_LIST, ListContainersRequest.getDefaultInstance());
        double listMs = (System.nanoTime() - start) / 1e6;
        start = System.nanoTime();
        Iterator<?> it = k8s.connection().serverStreaming(RAW_LIST_STREAM,
            ListContainersRequest.getDefaultInstance(), k8s.metadata(), TIMEOUT);
        while (it.hasNext()) {
          it.next();
        }
        double streamMs = (System.nanoTime() - start) / 1e6;
        if (i >= WARM_UP) { // the first calls warm both ends up
          list.add(listMs);
          stream.add(streamMs);
        }
      }
      k8s.connection().close();
      moby.connection().close();

      // the first run starts the CLI's one-off class cache training; measure once it is made,
      // as every later use of an installation is
      timeCommand(subject.listCommand(), containers + 1);
      awaitCliCache();
      List<Double> cli = new ArrayList<>();
      for (int i = 0; i < calls; i++) {
        cli.add(timeCommand(subject.listCommand(), containers + 1));
      }
      return new String[] {subject.name(), f(percentile(cli, 50)), f(percentile(cli, 90)),
          f(percentile(list, 50)), f(percentile(list, 90)), f(percentile(stream, 50))};
    } finally {
      daemon.destroy();
      if (!daemon.waitFor(20, TimeUnit.SECONDS)) {
        daemon.destroyForcibly().waitFor();
      }
    }
  }

  private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(30);
  private static final int WARM_UP = 40;

  /**
   * List and ListStream with their responses left as bytes: the client does not parse them, so
   * the figures are the daemon's work plus the transfer, not this client's protobuf decoding.
   */
  private static final MethodDescriptor<ListContainersRequest, byte[]> RAW_LIST =
      raw(ContainersGrpc.getListMethod());
  private static final MethodDescriptor<ListContainersRequest, byte[]> RAW_LIST_STREAM =
      raw(ContainersGrpc.getListStreamMethod());

  private static <R> MethodDescriptor<ListContainersRequest, byte[]> raw(
      MethodDescriptor<ListContainersRequest, R> method) {
    MethodDescriptor.Marshaller<byte[]> bytes = new MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(byte[] value) {
        return new ByteArrayInputStream(value);
      }

      @Override
      public byte[] parse(InputStream stream) {
        try {
          return stream.readAllBytes();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
    return method.toBuilder(method.getRequestMarshaller(), bytes).build();
  }
  private static Path cliCache;

  /** Waits until no class cache training runs in the CLI's cache directory. */
  private static void awaitCliCache() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      try (Stream<Path> files = Files.list(cliCache)) {
        if (files.noneMatch(f -> f.getFileName().toString().endsWith(".training"))) {
          return;
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the CLI's class cache training did not end in 120 s");
  }

  /** A connection whose calls carry one namespace; reconnects after a failure. */
  static final class Client {
    private final Path socket;
    private final Map<String, String> metadata;
    private GrpcConnection connection;

    Client(Path socket, String namespace) {
      this.socket = socket;
      this.metadata = Map.of("containerd-namespace", namespace);
    }

    Map<String, String> metadata() {
      return metadata;
    }

    GrpcConnection connection() {
      if (connection == null) {
        connection = GrpcConnection.open(socket);
      }
      return connection;
    }

    ListContainersResponse list() {
      return call(ContainersGrpc.getListMethod(), ListContainersRequest.getDefaultInstance());
    }

    <Q, R> R call(MethodDescriptor<Q, R> method, Q request) {
      try {
        return connection().unary(method, request, metadata, TIMEOUT);
      } catch (RuntimeException e) {
        if (connection != null) {
          connection.close();
        }
        connection = null;
        throw e;
      }
    }
  }

  /** Containers shaped like the kubelet's: labels, image, runtime, a small JSON spec. */
  private static void fill(Client client, String prefix, int count) {
    Any spec = Any.newBuilder().setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Spec")
        .setValue(ByteString.copyFromUtf8("{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":"
            + "[\"/pause\"],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"}}"))
        .build();
    for (int i = 0; i < count; i++) {
      String id = prefix + "-" + String.format("%064x", (long) i * 7919 + 12345);
      client.call(ContainersGrpc.getCreateMethod(), CreateContainerRequest.newBuilder()
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

  private static void awaitList(Process daemon, Subject subject, Client client)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      if (!daemon.isAlive()) {
        throw new IllegalStateException(subject.name() + " exited with " + daemon.exitValue());
      }
      try {
        client.list();
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
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("JCTR_CACHE_DIR", cliCache.toString());
    Process process = builder.start();
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
