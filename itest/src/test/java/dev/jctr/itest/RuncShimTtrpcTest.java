package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.proto.containerd.task.v2.ConnectRequest;
import dev.jctr.api.proto.containerd.task.v2.ConnectResponse;
import dev.jctr.api.proto.containerd.task.v2.ShutdownRequest;
import dev.jctr.api.proto.containerd.task.v2.StateRequest;
import dev.jctr.api.ttrpc.TtrpcClient;
import dev.jctr.api.ttrpc.TtrpcException;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jctr's ttrpc client against Debian's real {@code containerd-shim-runc-v2}: started with the
 * shim command contract, it answers Connect with its pid and version, State with NotFound for a
 * task it never created, and Shutdown ends it.
 */
class RuncShimTtrpcTest {

  private static final String TASK = "containerd.task.v2.Task";

  @Test
  @org.junit.jupiter.api.Timeout(120)
  void theRuncShimAnswersJctrsTtrpcClient(@TempDir Path dir) throws Exception {
    String shim = Commands.requireTool("containerd-shim-runc-v2", "containerd");
    Path bundle = Files.createDirectories(dir.resolve("bundle"));
    // start reads the spec for its grouping annotations; no container is created from it
    Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\":\"1.0.2\",\"process\":"
        + "{\"args\":[\"true\"],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"},\"linux\":{}}");
    String id = "ttrpc-" + ProcessHandle.current().pid();
    // the shim writes its log into a fifo the daemon creates and reads, as containerd does
    Path log = bundle.resolve("log");
    Commands.run(Duration.ofSeconds(10), java.util.List.of("mkfifo", log.toString()))
        .requireSuccess("mkfifo");
    Thread logReader = Thread.ofVirtual().start(() -> {
      try (var in = Files.newInputStream(log)) {
        in.transferTo(java.io.OutputStream.nullOutputStream());
      } catch (java.io.IOException e) {
        // the shim is gone
      }
    });
    Path output = dir.resolve("start.out");
    ProcessBuilder start = new ProcessBuilder(shim, "-namespace", "jctr-itest", "-id", id,
        "-address", dir.resolve("containerd.sock").toString(), "-publish-binary", "/bin/true",
        "start").directory(bundle.toFile()).redirectErrorStream(true)
        .redirectOutput(output.toFile()).redirectInput(ProcessBuilder.Redirect.from(
            new java.io.File("/dev/null")));
    start.environment().put("TTRPC_ADDRESS", dir.resolve("containerd.sock.ttrpc").toString());
    Process starter = start.start();
    assertTrue(starter.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "shim start hung");
    String printed = Files.readString(output).strip();
    assertEquals(0, starter.exitValue(), "shim start: " + printed);
    assertTrue(printed.startsWith("unix://"), printed);
    Path socket = Path.of(printed.substring("unix://".length()));
    try (TtrpcClient client = TtrpcClient.connect(socket)) {
      Map<String, String> namespace = Map.of("containerd-namespace-ttrpc", "jctr-itest");
      ConnectResponse connected = ConnectResponse.parseFrom(client.call(TASK, "Connect",
          ConnectRequest.newBuilder().setId(id).build().toByteArray(), namespace,
          Duration.ofSeconds(10)));
      assertTrue(connected.getShimPid() > 0, connected.toString());
      assertTrue(ProcessHandle.of(connected.getShimPid()).isPresent(), "the shim runs");
      TtrpcException missing = org.junit.jupiter.api.Assertions.assertThrows(
          TtrpcException.class, () -> client.call(TASK, "State", StateRequest.newBuilder()
              .setId(id).build().toByteArray(), namespace, Duration.ofSeconds(10)));
      assertEquals(Status.Code.NOT_FOUND, missing.code(), missing.getMessage());
      try {
        client.call(TASK, "Shutdown", ShutdownRequest.newBuilder().setId(id).setNow(true)
            .build().toByteArray(), namespace, Duration.ofSeconds(10));
      } catch (java.io.IOException e) {
        // the shim may exit before its answer is read
      }
      ProcessHandle shimProcess = ProcessHandle.of(connected.getShimPid()).orElse(null);
      if (shimProcess != null) {
        shimProcess.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
      }
    } finally {
      Files.deleteIfExists(socket);
      logReader.interrupt();
    }
  }
}
