package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.Timestamp;
import dev.jctr.api.proto.containerd.events.ContainerCreate;
import dev.jctr.api.proto.containerd.services.events.ttrpc.v1.ForwardRequest;
import dev.jctr.api.proto.containerd.types.Envelope;
import dev.jctr.api.ttrpc.TtrpcClient;
import dev.jctr.api.ttrpc.TtrpcException;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's ttrpc socket ({@code <socket>.ttrpc}): an envelope forwarded there, as a shim
 * publishes, reaches a {@code jctr events} subscriber with its namespace, topic and time.
 */
class EventsTtrpcProcessTest {

  @Test
  @Timeout(120)
  void anEnvelopeForwardedOverTtrpcReachesSubscribers(@TempDir Path dir) throws Exception {
    try (DaemonProcess daemon = DaemonProcess.start(dir).awaitReady(Duration.ofSeconds(20))) {
      Path ttrpc = Path.of(daemon.socket() + ".ttrpc");
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!DaemonProcess.accepts(ttrpc)) {
        assertTrue(System.nanoTime() < deadline, "no ttrpc socket at " + ttrpc);
        Thread.sleep(100);
      }
      Path output = dir.resolve("events.out");
      Process events = new ProcessBuilder(Distribution.jctr().toString(), "--address",
          daemon.socket().toString(), "events").redirectErrorStream(true)
          .redirectOutput(output.toFile()).start();
      try (TtrpcClient client = TtrpcClient.connect(ttrpc)) {
        Thread.sleep(1500); // the subscriber's JVM start and Subscribe call
        Instant at = Instant.parse("2026-11-23T10:00:00Z");
        Envelope envelope = Envelope.newBuilder().setNamespace("k8s.io")
            .setTopic("/containers/create")
            .setTimestamp(Timestamp.newBuilder().setSeconds(at.getEpochSecond()))
            .setEvent(Any.pack(ContainerCreate.newBuilder().setId("from-a-shim").build(),
                "types.containerd.io"))
            .build();
        client.call("containerd.services.events.ttrpc.v1.Events", "Forward",
            ForwardRequest.newBuilder().setEnvelope(envelope).build().toByteArray(),
            Map.of("containerd-namespace-ttrpc", "k8s.io"), Duration.ofSeconds(10));
        long seen = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.readString(output).contains("from-a-shim")) {
          assertTrue(System.nanoTime() < seen, "not delivered: " + Files.readString(output));
          Thread.sleep(100);
        }
        String line = Files.readString(output).lines().filter(l -> l.contains("from-a-shim"))
            .findFirst().orElseThrow();
        assertTrue(line.contains("k8s.io") && line.contains("/containers/create"), line);

        // a malformed envelope is refused by name
        TtrpcException refused = org.junit.jupiter.api.Assertions.assertThrows(
            TtrpcException.class, () -> client.call(
                "containerd.services.events.ttrpc.v1.Events", "Forward",
                ForwardRequest.newBuilder().setEnvelope(envelope.toBuilder()
                    .setTopic("no-slash")).build().toByteArray(), Map.of(),
                Duration.ofSeconds(10)));
        assertEquals(Status.Code.INVALID_ARGUMENT, refused.code(), refused.getMessage());
      } finally {
        events.destroy();
        events.waitFor();
      }
    }
  }
}
