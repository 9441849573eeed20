package dev.jctr.itest;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An HTTP proxy in front of a registry that cuts the first download of chosen blobs halfway
 * (the connection closes early), and records the Range headers it is sent: what a flaky network
 * does to a pull.
 */
final class CuttingProxy implements AutoCloseable {

  private final HttpServer server;
  private final java.util.concurrent.ExecutorService handlers =
      java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
  final List<String> ranges = new CopyOnWriteArrayList<>();

  private CuttingProxy(HttpServer server) {
    this.server = server;
    server.setExecutor(handlers); // a stalled download must not hold up the others
  }

  static CuttingProxy start(String registryHost, Set<String> cutDigests) throws IOException {
    return start(registryHost, cutDigests, Set.of());
  }

  /** Also stalls (for a minute, after half the bytes) the first download of {@code stall}. */
  static CuttingProxy start(String registryHost, Set<String> cutDigests, Set<String> stall)
      throws IOException {
    Set<String> toStall = ConcurrentHashMap.newKeySet();
    toStall.addAll(stall);
    HttpClient client = HttpClient.newHttpClient();
    Set<String> toCut = ConcurrentHashMap.newKeySet();
    toCut.addAll(cutDigests);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    CuttingProxy proxy = new CuttingProxy(server);
    server.createContext("/", exchange -> {
      try {
        HttpRequest.Builder forward = HttpRequest.newBuilder(URI.create("http://" + registryHost
            + exchange.getRequestURI()));
        for (String header : List.of("Accept", "Range", "Authorization")) {
          String value = exchange.getRequestHeaders().getFirst(header);
          if (value != null) {
            forward.header(header, value);
            if (header.equals("Range")) {
              proxy.ranges.add(exchange.getRequestURI().getPath() + " " + value);
            }
          }
        }
        HttpResponse<InputStream> response = client.send(forward.method(
            exchange.getRequestMethod(), HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.ofInputStream());
        response.headers().map().forEach((name, values) -> {
          if (!name.equalsIgnoreCase("content-length") && !name.startsWith(":")
              && !name.equalsIgnoreCase("transfer-encoding")) {
            values.forEach(v -> exchange.getResponseHeaders().add(name, v));
          }
        });
        long length = response.headers().firstValueAsLong("Content-Length").orElse(0);
        String path = exchange.getRequestURI().getPath();
        String digest = path.substring(path.lastIndexOf('/') + 1);
        boolean cut = path.contains("/blobs/") && toCut.remove(digest);
        exchange.sendResponseHeaders(response.statusCode(),
            exchange.getRequestMethod().equals("HEAD") || length == 0 ? -1 : length);
        try (InputStream in = response.body(); OutputStream out = exchange.getResponseBody()) {
          if (path.contains("/blobs/") && toStall.remove(digest)) {
            out.write(in.readNBytes((int) (length / 2)));
            out.flush();
            Thread.sleep(60_000);
          }
          if (cut) {
            out.write(in.readNBytes((int) (length / 2)));
            out.flush();
            throw new IOException("cut on purpose"); // the client sees the body end early
          }
          in.transferTo(out);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        exchange.close();
      }
    });
    server.start();
    return proxy;
  }

  String host() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    handlers.shutdownNow(); // wakes a stalled handler
  }
}
