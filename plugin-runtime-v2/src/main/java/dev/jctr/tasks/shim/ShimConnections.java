package dev.jctr.tasks.shim;

import dev.jctr.api.ttrpc.TtrpcClient;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * One ttrpc connection per shim and namespace, shared by every task of that shim (a slot shim
 * holds a quarter of a node's pods): a connection costs the shim a reader and its buffers, so
 * a connection per task grew a shim's heap with its task count. A connection closes when its
 * last task lets go of it; a broken one is replaced at the next task.
 */
final class ShimConnections {

  private record Shared(TtrpcClient client, int users) {}

  private final Map<String, Shared> open = new HashMap<>();

  /** A client for the shim at {@code address}; {@link ShimClient#close} releases it. */
  ShimClient acquire(String address, String namespace) throws IOException {
    Path socket = ShimClient.socketPath(address);
    String key = socket + "\n" + namespace;
    TtrpcClient client;
    synchronized (this) {
      Shared shared = open.get(key);
      if (shared == null || shared.client().isBroken()) {
        shared = new Shared(TtrpcClient.connect(socket), 0);
      }
      client = shared.client();
      open.put(key, new Shared(client, shared.users() + 1));
    }
    return new ShimClient(client, namespace, socket, () -> release(key, client));
  }

  private synchronized void release(String key, TtrpcClient client) {
    Shared shared = open.get(key);
    if (shared == null || shared.client() != client) {
      ShimClient.closeQuietly(client); // replaced after it broke
      return;
    }
    if (shared.users() <= 1) {
      open.remove(key);
      ShimClient.closeQuietly(client);
    } else {
      open.put(key, new Shared(client, shared.users() - 1));
    }
  }

  /** How many shims have a connection open (for tests). */
  synchronized int size() {
    return open.size();
  }
}
