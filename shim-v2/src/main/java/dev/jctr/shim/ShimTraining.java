package dev.jctr.shim;

import dev.jctr.api.proto.containerd.events.TaskCreate;
import dev.jctr.api.proto.containerd.events.TaskExit;
import dev.jctr.api.proto.containerd.events.TaskStart;
import dev.jctr.api.proto.containerd.task.v2.ConnectRequest;
import dev.jctr.api.proto.containerd.task.v2.CreateTaskRequest;
import dev.jctr.api.proto.containerd.task.v2.DeleteRequest;
import dev.jctr.api.proto.containerd.task.v2.KillRequest;
import dev.jctr.api.proto.containerd.task.v2.StartRequest;
import dev.jctr.api.proto.containerd.task.v2.StateRequest;
import dev.jctr.api.proto.containerd.task.v2.WaitRequest;
import dev.jctr.api.ttrpc.TtrpcClient;
import dev.jctr.api.ttrpc.TtrpcException;
import dev.jctr.api.ttrpc.TtrpcServer;
import dev.jctr.runtime.linux.LinuxCalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The training run behind the shim's ahead-of-time class cache (JDK 25's AOT cache, made by the
 * launcher script once per JDK and build): the classes a shim loads between its start and its
 * first tasks, loaded and linked here so that a real shim maps them instead. It serves the task
 * service on a temporary socket and calls it as jctrd does (every call answered with an error:
 * no container is created, runc is run only to refuse a bundle without a config), forwards
 * task events to a stand-in for the daemon, and loads libc.
 */
public final class ShimTraining {

  private ShimTraining() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("jctr-shim-training");
    try {
      train(dir);
    } finally {
      deleteTree(dir);
    }
    System.exit(0); // the cache is written at exit
  }

  private static void train(Path dir) throws Exception {
    LinuxCalls.load();
    CountDownLatch forwarded = new CountDownLatch(3);
    try (TtrpcServer daemon = new TtrpcServer()) {
      daemon.register("containerd.services.events.ttrpc.v1.Events", "Forward",
          (payload, metadata) -> {
            forwarded.countDown();
            return new byte[0];
          });
      daemon.listen(dir.resolve("events.sock"));
      EventForwarder events = new EventForwarder(dir.resolve("events.sock"), "training");
      TaskService tasks = new TaskService("training", dir.resolve("runc"), "runc", events,
          new TaskService.Idle() {
            @Override
            public void empty() {}

            @Override
            public void busy() {}
          });
      try (TtrpcServer shim = new TtrpcServer()) {
        tasks.register(shim);
        shim.listen(dir.resolve("shim.sock"));
        try (TtrpcClient client = TtrpcClient.connect(dir.resolve("shim.sock"))) {
          Path bundle = Files.createDirectories(dir.resolve("bundle"));
          call(client, "Create", CreateTaskRequest.newBuilder().setId("training")
              .setBundle(bundle.toString()).build().toByteArray());
          call(client, "Connect", ConnectRequest.newBuilder().setId("training").build()
              .toByteArray());
          call(client, "State", StateRequest.newBuilder().setId("training").build()
              .toByteArray());
          call(client, "Start", StartRequest.newBuilder().setId("training").build()
              .toByteArray());
          call(client, "Kill", KillRequest.newBuilder().setId("training").setSignal(9).build()
              .toByteArray());
          call(client, "Wait", WaitRequest.newBuilder().setId("training").build()
              .toByteArray());
          call(client, "Delete", DeleteRequest.newBuilder().setId("training").build()
              .toByteArray());
        }
      }
      events.publish("/tasks/create", TaskCreate.newBuilder().setContainerId("training")
          .build());
      events.publish("/tasks/start", TaskStart.newBuilder().setContainerId("training").build());
      events.publish("/tasks/exit", TaskExit.newBuilder().setContainerId("training").build());
      forwarded.await(10, TimeUnit.SECONDS);
    }
  }

  private static void call(TtrpcClient client, String method, byte[] request)
      throws IOException {
    try {
      client.call(TaskService.SERVICE, method, request,
          Map.of("containerd-namespace-ttrpc", "training"), Duration.ofSeconds(10));
    } catch (TtrpcException expected) {
      // nothing was created: every call after Create answers NotFound
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
