package dev.jctr.itest;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Debian's docker-registry on 127.0.0.1 at a free port with its storage in a temporary
 * directory, and a minimal push (blob uploads and a manifest PUT) for images the tests build.
 */
public final class LocalRegistry implements AutoCloseable {

  private final Process process;
  private final int port;
  private String authorization;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  private LocalRegistry(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  public static LocalRegistry start(Path dir) throws Exception {
    return start(dir, "");
  }

  /** With {@code extraConfig} (YAML, for example an {@code auth:} section) appended. */
  static LocalRegistry start(Path dir, String extraConfig) throws Exception {
    String binary = Commands.requireTool("docker-registry", "docker-registry");
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    Path config = Files.writeString(dir.resolve("registry.yml"), "version: 0.1\n"
        + "log:\n  level: warn\n"
        + "storage:\n  filesystem:\n    rootdirectory: " + dir.resolve("storage") + "\n"
        + "  delete:\n    enabled: true\n"
        + "http:\n  addr: 127.0.0.1:" + port + "\n" + extraConfig);
    Process process = new ProcessBuilder(binary, "serve", config.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
    LocalRegistry registry = new LocalRegistry(process, port);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      try {
        int status = registry.get("/v2/").statusCode();
        if (status == 200 || status == 401) {
          return registry;
        }
      } catch (IOException e) {
        // not listening yet
      }
      if (!process.isAlive() || System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new AssertionError("docker-registry did not start:\n"
            + Files.readString(dir.resolve("registry.log")));
      }
      Thread.sleep(100);
    }
  }

  /** host:port, as image references name it. */
  public String host() {
    return "127.0.0.1:" + port;
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://" + host() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Pushes every blob, then the manifest under {@code tag}; returns the image reference. */
  public String push(String repository, String tag, OciArchive.Built image) throws Exception {
    return push(repository, tag, image, null);
  }

  /** Pushes with {@code authorization} (an Authorization header value) on every request. */
  String push(String repository, String tag, OciArchive.Built image, String authorization)
      throws Exception {
    this.authorization = authorization;
    for (Map.Entry<String, byte[]> blob : image.blobs().entrySet()) {
      if (blob.getKey().equals(image.manifestDigest())
          || image.children().containsKey(blob.getKey())) {
        continue;
      }
      HttpResponse<String> started = http.send(authorized(URI.create("http://"
          + host() + "/v2/" + repository + "/blobs/uploads/"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      require(started, 202, "start upload");
      String location = started.headers().firstValue("Location").orElseThrow();
      URI upload = URI.create(location.startsWith("http") ? location
          : "http://" + host() + location);
      String separator = upload.getQuery() == null ? "?" : "&";
      HttpResponse<String> done = http.send(authorized(URI.create(upload
          + separator + "digest=" + blob.getKey()))
          .header("Content-Type", "application/octet-stream")
          .PUT(HttpRequest.BodyPublishers.ofByteArray(blob.getValue())).build(),
          HttpResponse.BodyHandlers.ofString());
      require(done, 201, "upload " + blob.getKey());
    }
    for (Map.Entry<String, String> child : image.children().entrySet()) {
      putManifest(repository, child.getKey(), child.getValue(),
          image.blobs().get(child.getKey()));
    }
    putManifest(repository, tag, image.manifestType(), image.manifest());
    return host() + "/" + repository + ":" + tag;
  }

  private void putManifest(String repository, String reference, String type, byte[] body)
      throws Exception {
    HttpResponse<String> manifest = http.send(authorized(URI.create("http://"
        + host() + "/v2/" + repository + "/manifests/" + reference))
        .header("Content-Type", type)
        .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    require(manifest, 201, "put manifest " + reference);
  }

  private HttpRequest.Builder authorized(URI uri) {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri);
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return request;
  }

  private static void require(HttpResponse<String> response, int status, String what) {
    if (response.statusCode() != status) {
      throw new AssertionError(what + ": HTTP " + response.statusCode() + " "
          + response.body());
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }
}
