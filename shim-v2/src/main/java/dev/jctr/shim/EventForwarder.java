package dev.jctr.shim;

import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.jctr.api.proto.containerd.services.events.ttrpc.v1.ForwardRequest;
import dev.jctr.api.proto.containerd.types.Envelope;
import dev.jctr.api.ttrpc.TtrpcClient;
import dev.jctr.api.typeurl.TypeUrls;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Publishes the shim's {@code /tasks/*} events to the daemon's ttrpc events service, in
 * order, from one thread. While the daemon is away (restarting) an event is retried for a
 * minute; a restarted daemon also learns exits from the shim's State.
 */
final class EventForwarder {

  private static final Logger LOG = System.getLogger(EventForwarder.class.getName());
  private static final String SERVICE = "containerd.services.events.ttrpc.v1.Events";
  private static final Duration GIVE_UP = Duration.ofMinutes(1);

  private final Path daemon;
  private final String namespace;
  private final LinkedBlockingQueue<Envelope> queue = new LinkedBlockingQueue<>();
  private TtrpcClient client;

  EventForwarder(Path daemon, String namespace) {
    this.daemon = daemon;
    this.namespace = namespace;
    Thread.ofVirtual().name("events").start(this::run);
  }

  void publish(String topic, Message event) {
    Instant now = Instant.now();
    queue.add(Envelope.newBuilder().setNamespace(namespace).setTopic(topic)
        .setTimestamp(Timestamp.newBuilder().setSeconds(now.getEpochSecond())
            .setNanos(now.getNano()))
        .setEvent(TypeUrls.pack(event)).build());
  }

  private void run() {
    while (true) {
      Envelope envelope;
      try {
        envelope = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      long deadline = System.nanoTime() + GIVE_UP.toNanos();
      long pause = 50;
      while (true) {
        try {
          if (client == null) {
            client = TtrpcClient.connect(daemon);
          }
          client.call(SERVICE, "Forward", ForwardRequest.newBuilder().setEnvelope(envelope)
              .build().toByteArray(), Map.of("containerd-namespace-ttrpc", namespace),
              Duration.ofSeconds(10));
          break;
        } catch (IOException | RuntimeException e) {
          closeClient();
          if (System.nanoTime() > deadline) {
            LOG.log(Level.WARNING, "event " + envelope.getTopic() + " dropped: "
                + e.getMessage());
            break;
          }
          try {
            Thread.sleep(pause);
          } catch (InterruptedException interrupted) {
            return;
          }
          pause = Math.min(pause * 2, 2000);
        }
      }
    }
  }

  private void closeClient() {
    if (client != null) {
      try {
        client.close();
      } catch (IOException e) {
        // gone anyway
      }
      client = null;
    }
  }
}
