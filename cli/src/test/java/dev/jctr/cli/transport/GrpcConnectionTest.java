package dev.jctr.cli.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerResponse;
import dev.jctr.api.proto.containerd.services.containers.v1.GetContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.GetContainerResponse;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainerMessage;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersResponse;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's HTTP/2 client against grpc-java's own server on a real unix socket: the
 * server jctrd runs, so what passes here is what the CLI sees from the daemon.
 */
class GrpcConnectionTest {

  private static final Metadata.Key<String> NAMESPACE =
      Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER);

  @TempDir Path dir;
  private Path socket;
  private Server server;
  private EventLoopGroup loops;
  private final AtomicReference<String> seenNamespace = new AtomicReference<>();
  private final AtomicReference<String> seenTimeout = new AtomicReference<>();

  /** Get answers by id; List returns as many containers as its first filter asks for. */
  private final class TestContainers extends ContainersGrpc.ContainersImplBase {
    @Override
    public void get(GetContainerRequest request, StreamObserver<GetContainerResponse> response) {
      switch (request.getId()) {
        case "slow" -> {
          try {
            Thread.sleep(3000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          response.onError(Status.INTERNAL.withDescription("too late").asRuntimeException());
        }
        case "missing" -> response.onError(Status.NOT_FOUND
            .withDescription("container \"missing\" in namespace k8s.io: not found ü 100%+")
            .asRuntimeException());
        default -> {
          response.onNext(GetContainerResponse.newBuilder()
              .setContainer(Container.newBuilder().setId(request.getId())).build());
          response.onCompleted();
        }
      }
    }

    @Override
    public void list(ListContainersRequest request,
        StreamObserver<ListContainersResponse> response) {
      ListContainersResponse.Builder list = ListContainersResponse.newBuilder();
      for (Container c : containers(Integer.parseInt(request.getFilters(0)))) {
        list.addContainers(c);
      }
      response.onNext(list.build());
      response.onCompleted();
    }

    @Override
    public void listStream(ListContainersRequest request,
        StreamObserver<ListContainerMessage> response) {
      for (Container c : containers(Integer.parseInt(request.getFilters(0)))) {
        response.onNext(ListContainerMessage.newBuilder().setContainer(c).build());
      }
      response.onCompleted();
    }

    @Override
    public void create(CreateContainerRequest request,
        StreamObserver<CreateContainerResponse> response) {
      response.onNext(CreateContainerResponse.newBuilder()
          .setContainer(request.getContainer()).build());
      response.onCompleted();
    }
  }

  private static List<Container> containers(int count) {
    List<Container> containers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      containers.add(Container.newBuilder().setId("container-" + i)
          .setImage("registry.local/app:" + i)
          .putLabels("io.kubernetes.pod.name", "pod-" + "x".repeat(200) + i).build());
    }
    return containers;
  }

  @BeforeEach
  void start() throws Exception {
    socket = dir.resolve("grpc.sock");
    loops = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    ServerInterceptor recordHeaders = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        seenNamespace.set(headers.get(NAMESPACE));
        seenTimeout.set(headers.get(Metadata.Key.of("grpc-timeout",
            Metadata.ASCII_STRING_MARSHALLER)));
        return next.startCall(call, headers);
      }
    };
    server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollServerDomainSocketChannel.class)
        .bossEventLoopGroup(loops)
        .workerEventLoopGroup(loops)
        .maxInboundMessageSize(16 << 20)
        .addService(ServerInterceptors.intercept(new TestContainers(), recordHeaders))
        .build()
        .start();
  }

  @AfterEach
  void stop() throws Exception {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  @Test
  void aUnaryCallCarriesItsMetadataAndDeadline() {
    try (GrpcConnection connection = GrpcConnection.open(socket)) {
      Container container = connection.unary(ContainersGrpc.getGetMethod(),
          GetContainerRequest.newBuilder().setId("web").build(),
          Map.of("containerd-namespace", "k8s.io"), TimeUnit.SECONDS.toNanos(30)).getContainer();
      assertEquals("web", container.getId());
      assertEquals("k8s.io", seenNamespace.get());
      assertTrue(seenTimeout.get().endsWith("m"), seenTimeout.get());
    }
  }

  @Test
  void manyCallsShareOneConnection() {
    try (GrpcConnection connection = GrpcConnection.open(socket)) {
      for (int i = 0; i < 200; i++) {
        assertEquals("c" + i, connection.unary(ContainersGrpc.getGetMethod(),
            GetContainerRequest.newBuilder().setId("c" + i).build(), Map.of(), 0)
            .getContainer().getId());
      }
    }
  }

  @Test
  void responsesOfManyFramesAndRequestsBeyondTheWindowArriveWhole() {
    try (GrpcConnection connection = GrpcConnection.open(socket)) {
      // about 2.5 MiB: far beyond one 16 KiB frame and the 64 KiB initial window
      List<Container> listed = connection.unary(ContainersGrpc.getListMethod(),
          ListContainersRequest.newBuilder().addFilters("10000").build(), Map.of(), 0)
          .getContainersList();
      assertEquals(containers(10000), listed);

      Container big = Container.newBuilder().setId("big")
          .putLabels("blob", "b".repeat(3 << 20)).build();
      Container echoed = connection.unary(ContainersGrpc.getCreateMethod(),
          CreateContainerRequest.newBuilder().setContainer(big).build(), Map.of(), 0)
          .getContainer();
      assertEquals(big, echoed);
    }
  }

  @Test
  void aServerStreamYieldsEveryMessageInOrder() {
    try (GrpcConnection connection = GrpcConnection.open(socket)) {
      Iterator<ListContainerMessage> stream = connection.serverStreaming(
          ContainersGrpc.getListStreamMethod(),
          ListContainersRequest.newBuilder().addFilters("3000").build(), Map.of(), 0);
      List<Container> received = new ArrayList<>();
      stream.forEachRemaining(m -> received.add(m.getContainer()));
      assertEquals(containers(3000), received);
      assertFalse(stream.hasNext());
    }
  }

  @Test
  void anErrorStatusArrivesWithItsDecodedMessage() {
    try (GrpcConnection connection = GrpcConnection.open(socket)) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> connection.unary(ContainersGrpc.getGetMethod(),
              GetContainerRequest.newBuilder().setId("missing").build(), Map.of(), 0));
      assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
      assertEquals("container \"missing\" in namespace k8s.io: not found ü 100%+",
          e.getStatus().getDescription());
      // the connection is still good for the next call
      assertEquals("next", connection.unary(ContainersGrpc.getGetMethod(),
          GetContainerRequest.newBuilder().setId("next").build(), Map.of(), 0)
          .getContainer().getId());
    }
  }

  @Test
  void aCallPastItsDeadlineFailsWithDeadlineExceededInTime() {
    try (GrpcConnection connection = GrpcConnection.open(socket)) {
      long start = System.nanoTime();
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> connection.unary(ContainersGrpc.getGetMethod(),
              GetContainerRequest.newBuilder().setId("slow").build(), Map.of(),
              TimeUnit.MILLISECONDS.toNanos(300)));
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
      assertTrue(millis < 2500, "took " + millis + " ms");
    }
  }

  @Test
  void nothingListeningIsUnavailableAndNamesTheSocket() throws Exception {
    Path absent = dir.resolve("absent.sock");
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> GrpcConnection.open(absent));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    Path notASocket = Files.writeString(dir.resolve("file"), "x");
    assertEquals(Status.Code.UNAVAILABLE, assertThrows(StatusRuntimeException.class,
        () -> GrpcConnection.open(notASocket)).getStatus().getCode());
  }

  @Test
  void aServerThatGoesAwayMidCallIsUnavailable() throws Exception {
    try (GrpcConnection connection = GrpcConnection.open(socket)) {
      Thread stopper = Thread.ofPlatform().start(() -> {
        try {
          Thread.sleep(300);
          server.shutdownNow();
        } catch (InterruptedException ignored) {
          // test over
        }
      });
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> connection.unary(ContainersGrpc.getGetMethod(),
              GetContainerRequest.newBuilder().setId("slow").build(), Map.of(), 0));
      stopper.join();
      assertTrue(e.getStatus().getCode() == Status.Code.UNAVAILABLE
          || e.getStatus().getCode() == Status.Code.CANCELLED, e.getStatus().toString());
    }
  }
}
