package dev.jctr.tasks.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Empty;
import dev.jctr.api.ttrpc.TtrpcServer;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tasks of one shim share one connection over a real unix socket. */
class ShimConnectionsTest {

  @Test
  void tasksOfAShimShareOneConnectionUntilTheLastLetsGo(@TempDir Path dir) throws Exception {
    Path socket = dir.resolve("shim.sock");
    Set<Thread> serving = ConcurrentHashMap.newKeySet();
    try (TtrpcServer server = new TtrpcServer().register(ShimClient.SERVICE, "State",
        (payload, metadata) -> {
          serving.add(Thread.currentThread());
          return Empty.getDefaultInstance().toByteArray();
        }).listen(socket)) {
      ShimConnections connections = new ShimConnections();
      ShimClient first = connections.acquire("unix://" + socket, "k8s.io");
      ShimClient second = connections.acquire(socket.toString(), "k8s.io");
      ShimClient other = connections.acquire(socket.toString(), "default");
      assertEquals(2, connections.size(), "one per shim and namespace");
      first.call("State", Empty.getDefaultInstance());
      second.call("State", Empty.getDefaultInstance());
      first.close();
      first.close(); // a second close of one task's client releases nothing more
      second.call("State", Empty.getDefaultInstance()); // still open for the second task
      second.close();
      assertEquals(1, connections.size(), "the k8s.io connection closed with its last task");
      other.close();
      assertEquals(0, connections.size());

    }
  }

  @Test
  void aConnectionThatBrokeIsReplacedForTheNextTask(@TempDir Path dir) throws Exception {
    Path socket = dir.resolve("shim.sock");
    ShimConnections connections = new ShimConnections();
    ShimClient held;
    try (TtrpcServer server = state(socket)) {
      held = connections.acquire(socket.toString(), "k8s.io");
      held.call("State", Empty.getDefaultInstance());
    }
    java.nio.file.Files.deleteIfExists(socket);
    try (TtrpcServer restarted = state(socket)) {
      long deadline = System.nanoTime() + 5_000_000_000L;
      ShimClient next = connections.acquire(socket.toString(), "k8s.io");
      while (true) { // the reader notices the closed connection on its own thread
        try {
          next.call("State", Empty.getDefaultInstance());
          break;
        } catch (dev.jctr.api.errors.UnavailableException e) {
          next.close();
          if (System.nanoTime() > deadline) {
            throw e;
          }
          Thread.sleep(20);
          next = connections.acquire(socket.toString(), "k8s.io");
        }
      }
      held.close(); // the broken one's last user
      next.call("State", Empty.getDefaultInstance());
      next.close();
      assertEquals(0, connections.size());
    }
  }

  private static TtrpcServer state(Path socket) throws java.io.IOException {
    return new TtrpcServer().register(ShimClient.SERVICE, "State",
        (payload, metadata) -> Empty.getDefaultInstance().toByteArray()).listen(socket);
  }
}
