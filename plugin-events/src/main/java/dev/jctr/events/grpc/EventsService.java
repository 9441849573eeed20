package dev.jctr.events.grpc;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.events.EventExchange;
import dev.jctr.api.events.EventSink;
import dev.jctr.api.events.Subscription;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.services.events.v1.EventsGrpc;
import dev.jctr.api.proto.containerd.services.events.v1.ForwardRequest;
import dev.jctr.api.proto.containerd.services.events.v1.PublishRequest;
import dev.jctr.api.proto.containerd.services.events.v1.SubscribeRequest;
import dev.jctr.api.proto.containerd.types.Envelope;
import io.grpc.BindableService;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code containerd.services.events.v1.Events}. Publish takes the namespace from the call;
 * Forward keeps the envelope's; Subscribe needs none and sees every namespace its filters allow.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.events")
@Plugin(type = PluginTypes.GRPC, id = "events", requires = {PluginTypes.EVENT})
public final class EventsService extends EventsGrpc.EventsImplBase {

  private final EventExchange exchange;

  @Activate
  public EventsService(@Reference EventExchange exchange) {
    this.exchange = exchange;
  }

  @Override
  public void publish(PublishRequest request, StreamObserver<Empty> response) {
    if (!request.hasEvent()) {
      throw new InvalidArgumentException("publish " + request.getTopic() + ": event is required");
    }
    Instant now = Instant.now();
    exchange.forward(Envelope.newBuilder()
        .setTimestamp(Timestamp.newBuilder().setSeconds(now.getEpochSecond())
            .setNanos(now.getNano()))
        .setNamespace(CallNamespace.required())
        .setTopic(request.getTopic())
        .setEvent(request.getEvent())
        .build());
    response.onNext(Empty.getDefaultInstance());
    response.onCompleted();
  }

  @Override
  public void forward(ForwardRequest request, StreamObserver<Empty> response) {
    if (!request.hasEnvelope()) {
      throw new InvalidArgumentException("forward: envelope is required");
    }
    exchange.forward(request.getEnvelope());
    response.onNext(Empty.getDefaultInstance());
    response.onCompleted();
  }

  @Override
  public void subscribe(SubscribeRequest request, StreamObserver<Envelope> response) {
    ServerCallStreamObserver<Envelope> stream = (ServerCallStreamObserver<Envelope>) response;
    StreamSink sink = new StreamSink(stream);
    Subscription subscription = exchange.subscribe(request.getFiltersList(), sink);
    stream.setOnReadyHandler(sink::ready);
    stream.setOnCancelHandler(() -> {
      sink.cancelled();
      subscription.close();
    });
  }

  /**
   * Writes envelopes to the stream, waiting while the client's transport is not ready so that a
   * slow client backs up into its bounded queue rather than into unbounded transport buffers.
   */
  static final class StreamSink implements EventSink {

    private final ServerCallStreamObserver<Envelope> stream;
    private final Object readiness = new Object();
    private volatile boolean cancelled;

    StreamSink(ServerCallStreamObserver<Envelope> stream) {
      this.stream = stream;
    }

    void ready() {
      synchronized (readiness) {
        readiness.notifyAll();
      }
    }

    void cancelled() {
      cancelled = true;
      ready();
    }

    @Override
    public void deliver(Envelope envelope) {
      synchronized (readiness) {
        while (!stream.isReady() && !cancelled) {
          try {
            readiness.wait(1_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return; // the subscription is closing
          }
        }
      }
      if (!cancelled) {
        stream.onNext(envelope);
      }
    }

    @Override
    public void overflowed(long dropped) {
      if (!cancelled) {
        stream.onError(Status.RESOURCE_EXHAUSTED
            .withDescription("event subscriber fell behind by more than "
                + "its queue holds; " + dropped + " event(s) dropped; resubscribe")
            .asRuntimeException());
      }
    }
  }
}
