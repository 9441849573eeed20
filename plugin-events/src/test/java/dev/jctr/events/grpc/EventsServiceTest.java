package dev.jctr.events.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.ErrorStatus;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.proto.containerd.events.ContainerCreate;
import dev.jctr.api.proto.containerd.services.events.v1.EventsGrpc;
import dev.jctr.api.proto.containerd.services.events.v1.ForwardRequest;
import dev.jctr.api.proto.containerd.services.events.v1.PublishRequest;
import dev.jctr.api.proto.containerd.services.events.v1.SubscribeRequest;
import dev.jctr.api.proto.containerd.types.Envelope;
import dev.jctr.api.typeurl.TypeUrls;
import dev.jctr.events.exchange.EventExchangeService;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Events service over an in-process transport, with the kernel's two call rules. */
class EventsServiceTest {

  private static final Metadata.Key<String> HEADER =
      Metadata.Key.of(CallNamespace.GRPC_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  private EventExchangeService exchange;
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    exchange = new EventExchangeService(16);
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name)
        .addService(ServerInterceptors.intercept(new EventsService(exchange), new CallRules()))
        .build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  private Channel in(String namespace) {
    Metadata headers = new Metadata();
    headers.put(HEADER, namespace);
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  @Test
  void publishedAndForwardedEventsReachASubscriberInEveryNamespace() throws Exception {
    Iterator<Envelope> stream = EventsGrpc.newBlockingStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .subscribe(SubscribeRequest.newBuilder().addFilters("topic~=^/tasks/").build());
    awaitSubscribers(1);
    EventsGrpc.newBlockingStub(in("moby")).publish(PublishRequest.newBuilder()
        .setTopic("/tasks/start").setEvent(TypeUrls.pack(ContainerCreate.newBuilder()
            .setId("t1").build())).build());
    EventsGrpc.newBlockingStub(in("moby")).publish(PublishRequest.newBuilder()
        .setTopic("/other").setEvent(TypeUrls.pack(ContainerCreate.getDefaultInstance()))
        .build());
    Envelope shim = Envelope.newBuilder().setNamespace("k8s.io").setTopic("/tasks/exit")
        .setTimestamp(com.google.protobuf.Timestamp.newBuilder().setSeconds(42))
        .setEvent(TypeUrls.pack(ContainerCreate.newBuilder().setId("t2").build())).build();
    EventsGrpc.newBlockingStub(channel).forward(
        ForwardRequest.newBuilder().setEnvelope(shim).build());

    Envelope first = stream.next();
    assertEquals("moby", first.getNamespace());
    assertEquals("/tasks/start", first.getTopic());
    assertEquals("t1", ContainerCreate.parseFrom(first.getEvent().getValue()).getId());
    assertEquals(shim, stream.next(), "a forwarded envelope changed on its way");
  }

  @Test
  void badCallsGetClearStatuses() {
    StatusRuntimeException noNamespace = assertThrows(StatusRuntimeException.class,
        () -> EventsGrpc.newBlockingStub(channel).publish(PublishRequest.newBuilder()
            .setTopic("/a").setEvent(TypeUrls.pack(ContainerCreate.getDefaultInstance()))
            .build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, noNamespace.getStatus().getCode());
    StatusRuntimeException badTopic = assertThrows(StatusRuntimeException.class,
        () -> EventsGrpc.newBlockingStub(in("a")).publish(PublishRequest.newBuilder()
            .setTopic("no-slash").setEvent(TypeUrls.pack(ContainerCreate.getDefaultInstance()))
            .build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, badTopic.getStatus().getCode());
    StatusRuntimeException badFilter = assertThrows(StatusRuntimeException.class,
        () -> EventsGrpc.newBlockingStub(channel).subscribe(
            SubscribeRequest.newBuilder().addFilters("labels.\"x").build()).next());
    assertEquals(Status.Code.INVALID_ARGUMENT, badFilter.getStatus().getCode());
  }

  @Test
  void aSubscriberThatStopsReadingIsCutOffWithResourceExhausted() throws Exception {
    // a blocking iterator that is not read stops pulling: the server's queue fills
    Iterator<Envelope> stream = EventsGrpc.newBlockingStub(channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .subscribe(SubscribeRequest.getDefaultInstance());
    awaitSubscribers(1);
    for (int i = 0; i < 5_000; i++) {
      exchange.publish("k8s.io", "/containers/create",
          ContainerCreate.newBuilder().setId("c" + i).setImage("x".repeat(200)).build());
    }
    StatusRuntimeException cutOff = assertThrows(StatusRuntimeException.class, () -> {
      while (true) {
        stream.next();
      }
    });
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, cutOff.getStatus().getCode());
    assertTrue(cutOff.getStatus().getDescription().contains("resubscribe"),
        cutOff.getStatus().getDescription());
    assertEquals(0, exchange.subscriberCount());
  }

  private void awaitSubscribers(int count) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (exchange.subscriberCount() < count && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertEquals(count, exchange.subscriberCount());
  }

  /** The kernel's rules at the test's edge: namespace header into the context, errors mapped. */
  private static final class CallRules implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      String namespace = headers.get(HEADER);
      Context context = namespace == null ? Context.current()
          : Context.current().withValue(CallNamespace.KEY, namespace);
      return new SimpleForwardingServerCallListener<>(
          Contexts.interceptCall(context, call, headers, next)) {
        @Override
        public void onHalfClose() {
          try {
            super.onHalfClose();
          } catch (RuntimeException e) {
            call.close(ErrorStatus.of(e), new Metadata());
          }
        }
      };
    }
  }
}
