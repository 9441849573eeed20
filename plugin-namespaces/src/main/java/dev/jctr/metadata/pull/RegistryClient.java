package dev.jctr.metadata.pull;

import dev.jctr.api.content.Digests;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.errors.UnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pull side of the OCI distribution protocol for one registry: manifests and blobs over
 * HTTPS (the JDK's trust store; HTTP/2 where the registry offers it) or plain HTTP, with the
 * {@code WWW-Authenticate} challenge flow: anonymous or basic bearer tokens, and basic auth.
 */
final class RegistryClient {

  static final String ACCEPT = String.join(", ",
      "application/vnd.oci.image.index.v1+json",
      "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v2+json", "*/*");
  /** containerd refuses manifests above this size; so do we. */
  static final int MAX_MANIFEST = dev.jctr.metadata.transfer.ImageJson.MAX_MANIFEST;
  private static final Pattern PARAMETER = Pattern.compile("(\\w+)=\"([^\"]*)\"");

  /** What a manifest request returned. */
  record Manifest(String mediaType, String digest, byte[] bytes) {}

  /** A blob response: the body, and whether it starts at the offset asked for. */
  record Blob(InputStream body, boolean resumed, long length) {}

  private final List<RegistryHosts.Host> hosts;
  private final String username;
  private final String password;
  private final Map<String, String> tokens = new ConcurrentHashMap<>();

  RegistryClient(List<RegistryHosts.Host> hosts, String username, String password) {
    this.hosts = hosts;
    this.username = username;
    this.password = password;
  }

  /** Tries each host able to {@code resolve} (or pull), in order; the last failure stands. */
  private <T> T first(boolean resolve, Attempt<T> attempt) throws IOException {
    RuntimeException failure = null;
    IOException ioFailure = null;
    for (RegistryHosts.Host host : hosts) {
      if (resolve ? !host.resolve() : !host.pull()) {
        continue;
      }
      try {
        return attempt.on(host);
      } catch (NotFoundException | UnavailableException e) {
        failure = e; // a mirror without it, or down: the next host may do
        ioFailure = null;
      } catch (IOException e) {
        ioFailure = e;
        failure = null;
      }
    }
    if (ioFailure != null) {
      throw ioFailure;
    }
    if (failure != null) {
      throw failure;
    }
    throw new FailedPreconditionException("no host in hosts.toml may " + (resolve ? "resolve"
        : "pull") + " images");
  }

  private interface Attempt<T> {
    T on(RegistryHosts.Host host) throws IOException;
  }

  Manifest manifest(String repository, String object) throws IOException {
    return first(!object.startsWith("sha256:"), host -> manifest(host, repository, object));
  }

  private Manifest manifest(RegistryHosts.Host host, String repository, String object)
      throws IOException {
    String base = host.v2();
    HttpResponse<InputStream> response = send(host, repository, "/" + repository
        + "/manifests/" + object, Map.of("Accept", ACCEPT));
    try (InputStream body = response.body()) {
      long declared = response.headers().firstValueAsLong("Content-Length").orElse(-1);
      if (declared > MAX_MANIFEST) {
        throw new InvalidArgumentException("manifest " + repository + ":" + object + " is "
            + declared + " bytes, above the " + MAX_MANIFEST + " allowed");
      }
      byte[] bytes = body.readNBytes(MAX_MANIFEST + 1);
      if (bytes.length > MAX_MANIFEST) {
        throw new InvalidArgumentException("manifest " + repository + ":" + object
            + " exceeds " + MAX_MANIFEST + " bytes");
      }
      String digest = Digests.of(bytes);
      if (object.startsWith("sha256:") && !object.equals(digest)) {
        throw new FailedPreconditionException("manifest " + object + " from " + base
            + " hashes to " + digest);
      }
      String type = response.headers().firstValue("Content-Type").orElse("")
          .split(";")[0].strip();
      return new Manifest(type, digest, bytes);
    }
  }

  /** A blob from {@code offset} (a Range request when above 0). */
  Blob blob(String repository, String digest, long offset) throws IOException {
    return first(false, host -> blob(host, repository, digest, offset));
  }

  private Blob blob(RegistryHosts.Host host, String repository, String digest, long offset)
      throws IOException {
    Map<String, String> headers = offset > 0 ? Map.of("Range", "bytes=" + offset + "-")
        : Map.of();
    HttpResponse<InputStream> response = send(host, repository, "/" + repository + "/blobs/"
        + digest, headers);
    boolean resumed = offset > 0 && response.statusCode() == 206;
    return new Blob(response.body(), resumed,
        response.headers().firstValueAsLong("Content-Length").orElse(-1));
  }

  private HttpResponse<InputStream> send(RegistryHosts.Host host, String repository,
      String path, Map<String, String> headers) throws IOException {
    String base = host.v2();
    HttpClient http = host.http();
    String scope = "repository:" + repository + ":pull";
    String tokenKey = base + " " + scope;
    for (int attempt = 0; attempt < 2; attempt++) {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
          .timeout(Duration.ofMinutes(10)).header("User-Agent", "jctr/0.1");
      host.headers().forEach(request::header);
      headers.forEach(request::header);
      String authorization = tokens.get(tokenKey);
      if (authorization != null) {
        request.header("Authorization", authorization);
      }
      HttpResponse<InputStream> response;
      try {
        response = http.send(request.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted talking to " + base, e);
      } catch (javax.net.ssl.SSLException e) {
        throw new FailedPreconditionException("TLS with " + base + ": " + e.getMessage()
            + " (trust its CA with ca = \"...\" in its hosts.toml, or for a registry without"
            + " TLS pull with --plain-http)");
      } catch (IOException e) {
        throw new UnavailableException("registry " + base + ": " + e.getMessage()
            + " (for a registry without TLS, pull with --plain-http)", e);
      }
      int status = response.statusCode();
      if (status == 401 && attempt == 0) {
        response.body().close();
        tokens.put(tokenKey, authorize(http, base, response.headers()
            .firstValue("WWW-Authenticate").orElse(""), scope));
        continue;
      }
      if (status == 200 || status == 206) {
        return response;
      }
      String body;
      try (InputStream in = response.body()) {
        body = new String(in.readNBytes(512), StandardCharsets.UTF_8).strip();
      }
      String what = base + path + ": HTTP " + status + (body.isEmpty() ? "" : " " + body);
      throw switch (status) {
        case 404 -> new NotFoundException(what);
        case 401, 403 -> new FailedPreconditionException(what
            + "; the registry refused these credentials");
        default -> new UnavailableException(what);
      };
    }
    throw new FailedPreconditionException(base + path + ": still unauthorized after "
        + "authenticating");
  }

  /** The Authorization header value a challenge asks for. */
  private String authorize(HttpClient http, String base, String challenge, String scope)
      throws IOException {
    if (challenge.regionMatches(true, 0, "Basic", 0, 5)) {
      if (username.isEmpty()) {
        throw new FailedPreconditionException(base + " asks for basic credentials; none given");
      }
      return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password)
          .getBytes(StandardCharsets.UTF_8));
    }
    if (!challenge.regionMatches(true, 0, "Bearer", 0, 6)) {
      throw new FailedPreconditionException(base + " sent an authentication challenge this "
          + "client does not know: \"" + challenge + "\"");
    }
    Map<String, String> parameters = new LinkedHashMap<>();
    Matcher matcher = PARAMETER.matcher(challenge);
    while (matcher.find()) {
      parameters.put(matcher.group(1), matcher.group(2));
    }
    String realm = parameters.get("realm");
    if (realm == null) {
      throw new FailedPreconditionException(base + ": bearer challenge without a realm");
    }
    StringBuilder url = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?")
        .append("scope=").append(URLEncoder.encode(parameters.getOrDefault("scope", scope),
            StandardCharsets.UTF_8));
    if (parameters.containsKey("service")) {
      url.append("&service=").append(URLEncoder.encode(parameters.get("service"),
          StandardCharsets.UTF_8));
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url.toString()))
        .timeout(Duration.ofSeconds(60));
    if (!username.isEmpty()) {
      request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (username + ":" + password).getBytes(StandardCharsets.UTF_8)));
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted fetching a token from " + realm, e);
    }
    if (response.statusCode() != 200) {
      throw new FailedPreconditionException("token from " + realm + ": HTTP "
          + response.statusCode());
    }
    com.google.gson.JsonObject json = com.google.gson.JsonParser.parseString(response.body())
        .getAsJsonObject();
    String token = json.has("token") ? json.get("token").getAsString()
        : json.has("access_token") ? json.get("access_token").getAsString() : null;
    if (token == null) {
      throw new FailedPreconditionException("token from " + realm + ": no token in the reply");
    }
    return "Bearer " + token;
  }
}
