package dev.jctr.kernel.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.Empty;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.errors.UnavailableException;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.proto.containerd.services.version.v1.VersionGrpc;
import dev.jctr.api.proto.containerd.services.version.v1.VersionResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The kernel's interceptors around a service whose behaviour each test chooses. */
class InterceptorsTest {

  private final Scripted service = new Scripted();
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(service, new NamespaceInterceptor(),
            new ErrorInterceptor()))
        .build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  @Test
  void namespaceHeaderReachesTheServiceThroughTheContext() {
    service.behaviour = () -> CallNamespace.required();
    assertEquals("k8s.io", call("k8s.io").getVersion());
  }

  @Test
  void callWithoutNamespaceFailsOnlyWhereOneIsRequired() {
    service.behaviour = () -> CallNamespace.current().orElse("none");
    assertEquals("none", call(null).getVersion());
    service.behaviour = () -> CallNamespace.required();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> call(null));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    assertEquals("namespace is required: failed precondition", e.getStatus().getDescription());
  }

  @Test
  void invalidNamespaceIsInvalidArgumentAndNeverReachesTheService() {
    service.behaviour = () -> {
      throw new AssertionError("service reached");
    };
    for (String bad : new String[] {"bad!", "-lead", "trail.", "a..b", "x".repeat(77)}) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> call(bad));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), bad);
      String message = e.getStatus().getDescription();
      assertEquals(true, message.startsWith("namespace \""), message);
    }
  }

  @Test
  void longestValidNamespaceIsAccepted() {
    service.behaviour = () -> CallNamespace.required();
    String longest = "a".repeat(76);
    assertEquals(longest, call(longest).getVersion());
  }

  @Test
  void spiErrorsMapToContainerdCodes() {
    assertMapped(new NotFoundException("container \"x\""), Status.Code.NOT_FOUND,
        "container \"x\": not found");
    assertMapped(new AlreadyExistsException("image \"y\""), Status.Code.ALREADY_EXISTS,
        "image \"y\": already exists");
    assertMapped(new FailedPreconditionException("namespace \"n\" is not empty"),
        Status.Code.FAILED_PRECONDITION, "namespace \"n\" is not empty: failed precondition");
    assertMapped(new UnavailableException("ref \"r\" locked"), Status.Code.UNAVAILABLE,
        "ref \"r\" locked: unavailable");
    assertMapped(new IllegalStateException("boom"), Status.Code.UNKNOWN, "boom");
  }

  @Test
  void errorsPassedToOnErrorAreMappedToo() {
    service.viaObserver = true;
    assertMapped(new NotFoundException("lease \"l\""), Status.Code.NOT_FOUND,
        "lease \"l\": not found");
  }

  private void assertMapped(RuntimeException thrown, Status.Code code, String message) {
    service.behaviour = () -> {
      throw thrown;
    };
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> call("default"));
    assertEquals(code, e.getStatus().getCode());
    assertEquals(message, e.getStatus().getDescription());
  }

  private VersionResponse call(String namespace) {
    var stub = VersionGrpc.newBlockingStub(channel);
    if (namespace != null) {
      Metadata headers = new Metadata();
      headers.put(Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER),
          namespace);
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    return stub.version(Empty.getDefaultInstance());
  }

  /** Answers with whatever {@link #behaviour} returns, as the version string. */
  private static final class Scripted extends VersionGrpc.VersionImplBase {
    volatile Supplier<String> behaviour = () -> "";
    volatile boolean viaObserver;

    @Override
    public void version(Empty request, StreamObserver<VersionResponse> observer) {
      String value;
      try {
        value = behaviour.get();
      } catch (RuntimeException e) {
        if (viaObserver) {
          observer.onError(e);
          return;
        }
        throw e;
      }
      observer.onNext(VersionResponse.newBuilder().setVersion(value).build());
      observer.onCompleted();
    }
  }
}
