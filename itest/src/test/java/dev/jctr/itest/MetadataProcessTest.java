package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc.ContainersBlockingStub;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersRequest;
import dev.jctr.api.typeurl.TypeUrls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Namespaced metadata through the real daemon process: Debian's {@code ctr} and {@code jctr}
 * as clients, isolation between {@code k8s.io} and {@code moby}, durability across restarts
 * and {@code kill -9}, and many concurrent clients.
 */
class MetadataProcessTest {

  private static final Duration READY = Duration.ofSeconds(20);
  private static final Duration COMMAND = Duration.ofSeconds(30);

  @TempDir static Path shared;
  private static DaemonProcess daemon;
  private static DaemonClient client;
  private static String ctr;

  @BeforeAll
  static void startDaemon() throws Exception {
    ctr = Commands.requireTool("ctr", "containerd");
    daemon = DaemonProcess.start(shared).awaitReady(READY);
    client = new DaemonClient(daemon.socket()).awaitMetadata(READY);
  }

  @AfterAll
  static void stopDaemon() throws Exception {
    if (client != null) {
      client.close();
    }
    if (daemon != null) {
      daemon.close();
    }
  }

  @Test
  void ctrManagesNamespacesAndTheirLabels() {
    ctr("namespaces", "create", "ctr-ns", "team=blue").requireSuccess("ctr namespaces create");
    assertTrue(rows(ctr("namespaces", "ls").requireSuccess("ls").stdout())
        .contains("ctr-ns team=blue"));
    ctr("namespaces", "label", "ctr-ns", "team=red", "tier=db").requireSuccess("label");
    assertTrue(rows(jctr("namespaces", "ls").requireSuccess("jctr ls").stdout())
        .contains("ctr-ns team=red,tier=db"), "jctr shows the labels ctr set");
    ctr("namespaces", "rm", "ctr-ns").requireSuccess("ctr namespaces rm");
    assertFalse(ctr("namespaces", "ls", "-q").stdout().lines().toList().contains("ctr-ns"));
  }

  @Test
  void namespaceHoldingContainersCannotBeRemoved() {
    jctr("-n", "busy-ns", "containers", "create", "--image", "busybox", "c1")
        .requireSuccess("jctr containers create");
    CommandResult refused = ctr("namespaces", "rm", "busy-ns");
    assertTrue(refused.exitCode() != 0 || refused.stderr().contains("must be empty"),
        "ctr namespaces rm of a namespace with containers succeeded:\n" + refused);
    assertTrue(ctr("namespaces", "ls", "-q").stdout().lines().toList().contains("busy-ns"));
    jctr("-n", "busy-ns", "containers", "rm", "c1").requireSuccess("jctr containers rm");
    jctr("namespaces", "rm", "busy-ns").requireSuccess("jctr namespaces rm");
  }

  @Test
  void k8sAndMobyContainersWithTheSameIdAreDifferentObjects() {
    jctr("containers", "create", "--namespace", "k8s.io", "--image", "k8s-image",
        "--label", "owner=kubelet", "shared-id").requireSuccess("create in k8s.io");
    jctr("-n", "moby", "containers", "create", "--image", "moby-image", "shared-id")
        .requireSuccess("create in moby");
    jctr("-n", "moby", "containers", "create", "--image", "moby-image", "moby-only")
        .requireSuccess("create moby-only");

    List<String> k8s = rows(jctr("containers", "list", "--namespace", "k8s.io")
        .requireSuccess("list k8s.io").stdout());
    assertEquals("CONTAINER IMAGE RUNTIME", k8s.get(0));
    assertTrue(k8s.contains("shared-id k8s-image io.containerd.runc.v2"), k8s.toString());
    assertFalse(String.join("\n", k8s).contains("moby"), "k8s.io lists moby's objects: " + k8s);
    assertEquals(rows(ctr("-n", "k8s.io", "containers", "ls").requireSuccess("ctr ls").stdout()),
        rows(jctr("-n", "k8s.io", "containers", "ls").requireSuccess("jctr ls").stdout()),
        "jctr and ctr print different container tables");

    ctr("-n", "k8s.io", "containers", "label", "shared-id", "checked=yes")
        .requireSuccess("ctr containers label");
    String info = ctr("-n", "k8s.io", "containers", "info", "shared-id")
        .requireSuccess("ctr containers info").stdout();
    assertTrue(info.contains("\"checked\": \"yes\"") && info.contains("k8s-image"), info);
    assertFalse(jctr("-n", "moby", "containers", "info", "shared-id").stdout().contains("checked"),
        "the k8s.io label reached moby's container");
    assertTrue(ctr("-n", "k8s.io", "containers", "rm", "moby-only").exitCode() != 0,
        "k8s.io deleted a moby container");

    ctr("-n", "k8s.io", "containers", "rm", "shared-id").requireSuccess("ctr containers rm");
    assertEquals(List.of("shared-id", "moby-only").stream().sorted().toList(),
        jctr("-n", "moby", "containers", "ls", "-q").requireSuccess("moby ls").stdout().lines()
            .sorted().toList(), "moby's containers survived the k8s.io delete");
    jctr("-n", "moby", "containers", "rm", "shared-id", "moby-only").requireSuccess("cleanup");
  }

  @Test
  void ctrManagesLeases() {
    String id = ctr("-n", "k8s.io", "leases", "create", "--expires", "1h", "a=b")
        .requireSuccess("ctr leases create").stdout().strip();
    assertFalse(id.isEmpty());
    String listed = ctr("-n", "k8s.io", "leases", "ls").requireSuccess("ctr leases ls").stdout();
    assertTrue(listed.contains(id) && listed.contains("containerd.io/gc.expire="), listed);
    assertFalse(jctr("-n", "moby", "leases", "ls", "-q").stdout().contains(id),
        "a k8s.io lease is visible in moby");
    assertTrue(jctr("-n", "k8s.io", "leases", "ls", "-q").stdout().lines().toList().contains(id));
    ctr("-n", "k8s.io", "leases", "rm", id).requireSuccess("ctr leases rm");
    assertFalse(ctr("-n", "k8s.io", "leases", "ls", "-q").stdout().contains(id));
  }

  @Test
  void ctrEventsShowsMetadataChangesAsTheyCommit() throws Exception {
    Process events = new ProcessBuilder(ctr, "--address", daemon.socket().toString(), "events")
        .redirectErrorStream(true)
        .redirectOutput(shared.resolve("ctr-events.txt").toFile())
        .start();
    try {
      Thread.sleep(1000); // ctr has subscribed by then
      jctr("-n", "events-ns", "containers", "create", "--image", "img", "ev1").requireSuccess("create");
      jctr("-n", "events-ns", "containers", "rm", "ev1").requireSuccess("rm");
      String seen = awaitContent(shared.resolve("ctr-events.txt"), "/containers/delete");
      assertTrue(seen.contains("events-ns /containers/create {\"id\":\"ev1\""), seen);
      assertTrue(seen.contains("events-ns /containers/delete {\"id\":\"ev1\"}"), seen);
    } finally {
      events.destroy();
      events.waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void metadataSurvivesKillDashNineInTheMiddleOfABurstOfCreates(@TempDir Path dir)
      throws Exception {
    DaemonProcess victim = DaemonProcess.start(dir).awaitReady(READY);
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    try (DaemonClient burst = new DaemonClient(victim.socket()).awaitMetadata(READY)) {
      ExecutorService writers = Executors.newFixedThreadPool(4);
      AtomicBoolean stop = new AtomicBoolean();
      List<Future<?>> running = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        int writer = w;
        running.add(writers.submit(() -> {
          ContainersBlockingStub stub = ContainersGrpc.newBlockingStub(burst.in("k8s.io"));
          for (int i = 0; !stop.get(); i++) {
            String id = "burst-" + writer + "-" + i;
            try {
              stub.withDeadlineAfter(10, TimeUnit.SECONDS).create(create(id));
              acknowledged.add(id);
            } catch (RuntimeException e) {
              return; // the daemon died under us: this create was never acknowledged
            }
          }
        }));
      }
      while (acknowledged.size() < 300) {
        Thread.sleep(5);
      }
      victim.process().destroyForcibly(); // SIGKILL, mid-burst
      victim.process().waitFor(10, TimeUnit.SECONDS);
      stop.set(true);
      for (Future<?> f : running) {
        f.get(30, TimeUnit.SECONDS);
      }
      writers.shutdown();
    }

    DaemonProcess revived = DaemonProcess.start(dir).awaitReady(READY);
    try (DaemonClient after = new DaemonClient(revived.socket()).awaitMetadata(READY)) {
      Set<String> present = new HashSet<>();
      ContainersGrpc.newBlockingStub(after.in("k8s.io"))
          .list(ListContainersRequest.getDefaultInstance()).getContainersList()
          .forEach(c -> present.add(c.getId()));
      Set<String> lost = new HashSet<>(acknowledged);
      lost.removeAll(present);
      assertTrue(lost.isEmpty(), lost.size() + " acknowledged creates lost, e.g. "
          + lost.stream().limit(5).toList());
      // still writable after the crash
      ContainersGrpc.newBlockingStub(after.in("k8s.io")).create(create("after-crash"));
    } finally {
      revived.close();
    }
  }

  @Test
  void fiftyConcurrentClientsCreateAndListWithoutErrorOrLostWrite(@TempDir Path dir)
      throws Exception {
    Duration run = Duration.ofSeconds(Long.getLong("jctr.itest.concurrency.seconds", 30));
    DaemonProcess busy = DaemonProcess.start(dir).awaitReady(READY);
    try (DaemonClient clients = new DaemonClient(busy.socket()).awaitMetadata(READY)) {
      ExecutorService pool = Executors.newFixedThreadPool(50);
      List<Future<Set<String>>> results = new ArrayList<>();
      long end = System.nanoTime() + run.toNanos();
      for (int c = 0; c < 50; c++) {
        int client = c;
        results.add(pool.submit(() -> {
          ContainersBlockingStub stub = ContainersGrpc.newBlockingStub(clients.in("load"));
          Set<String> mine = new HashSet<>();
          for (int i = 0; System.nanoTime() < end; i++) {
            String id = "client-" + client + "-" + i;
            stub.withDeadlineAfter(30, TimeUnit.SECONDS).create(create(id));
            mine.add(id);
            if (i % 5 == 0) {
              List<Container> listed = stub.withDeadlineAfter(30, TimeUnit.SECONDS).list(
                  ListContainersRequest.newBuilder().addFilters("labels.client==" + client)
                      .build()).getContainersList();
              if (listed.size() != mine.size()) {
                throw new AssertionError("client " + client + " created " + mine.size()
                    + " but lists " + listed.size());
              }
            }
          }
          return mine;
        }));
      }
      Set<String> created = new HashSet<>();
      for (Future<Set<String>> result : results) {
        created.addAll(result.get(run.toSeconds() + 60, TimeUnit.SECONDS));
      }
      pool.shutdown();
      Set<String> listed = new HashSet<>();
      ContainersGrpc.newBlockingStub(clients.in("load"))
          .list(ListContainersRequest.getDefaultInstance()).getContainersList()
          .forEach(c -> listed.add(c.getId()));
      assertEquals(created, listed, "the final list differs from what was acknowledged");
      assertTrue(created.size() > 500, "only " + created.size() + " creates in " + run);
      System.out.printf("concurrency: 50 clients, %d creates in %s (%.0f/s)%n", created.size(),
          run, created.size() / (double) run.toSeconds());
    } finally {
      busy.close();
    }
  }

  private static CreateContainerRequest create(String id) {
    String client = id.startsWith("client-") ? id.split("-")[1] : "none";
    return CreateContainerRequest.newBuilder().setContainer(Container.newBuilder()
        .setId(id)
        .setImage("docker.io/library/busybox:latest")
        .putLabels("client", client)
        .setRuntime(Container.Runtime.newBuilder().setName("io.containerd.runc.v2"))
        .setSpec(Any.newBuilder().setTypeUrl(TypeUrls.OCI_SPEC)
            .setValue(ByteString.copyFromUtf8("{\"ociVersion\":\"1.1.0\"}"))))
        .build();
  }

  private static String awaitContent(Path file, String marker) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String content = "";
    while (System.nanoTime() < deadline) {
      content = java.nio.file.Files.readString(file);
      if (content.contains(marker)) {
        return content;
      }
      Thread.sleep(50);
    }
    return content;
  }

  private static CommandResult ctr(String... args) {
    List<String> command = new ArrayList<>(List.of(ctr, "--address", daemon.socket().toString()));
    command.addAll(List.of(args));
    return Commands.run(COMMAND, command);
  }

  private static CommandResult jctr(String... args) {
    List<String> command = new ArrayList<>(List.of(Distribution.jctr().toString(),
        "--address", daemon.socket().toString()));
    command.addAll(List.of(args));
    return Commands.run(COMMAND, command);
  }

  /** Table rows with runs of spaces collapsed, so column widths do not matter. */
  private static List<String> rows(String table) {
    return table.lines().map(l -> l.strip().replaceAll("\\s+", " ")).filter(l -> !l.isEmpty())
        .toList();
  }
}
