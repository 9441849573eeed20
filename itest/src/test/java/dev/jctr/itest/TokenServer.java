package dev.jctr.itest;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * A registry token service for the tests, as docker-registry's {@code auth: token} expects:
 * RS256 JWTs carrying their signing certificate ({@code x5c}), which the registry checks against
 * the same certificate. Anonymous callers get no access; {@code user}/{@code password} over basic
 * auth get pull and push on the repository asked for.
 */
final class TokenServer implements AutoCloseable {

  static final String SERVICE = "jctr-test-registry";
  static final String ISSUER = "jctr-test-tokens";

  private final HttpServer server;
  private final PrivateKey key;
  private final String certificate;
  private final Path certificateFile;
  private final String user;
  private final String password;
  volatile int issued;

  private TokenServer(HttpServer server, PrivateKey key, String certificate,
      Path certificateFile, String user, String password) {
    this.server = server;
    this.key = key;
    this.certificate = certificate;
    this.certificateFile = certificateFile;
    this.user = user;
    this.password = password;
  }

  static TokenServer start(Path dir, String user, String password) throws Exception {
    Path keyPem = dir.resolve("key.pem");
    Path certPem = dir.resolve("cert.pem");
    Path keyDer = dir.resolve("key.der");
    Path certDer = dir.resolve("cert.der");
    Commands.run(Duration.ofSeconds(60), List.of("openssl", "req", "-x509", "-newkey",
        "rsa:2048", "-nodes", "-keyout", keyPem.toString(), "-out", certPem.toString(),
        "-days", "1", "-subj", "/CN=jctr-test-tokens")).requireSuccess("openssl req");
    Commands.run(Duration.ofSeconds(30), List.of("openssl", "pkcs8", "-topk8", "-nocrypt",
        "-in", keyPem.toString(), "-outform", "DER", "-out", keyDer.toString()))
        .requireSuccess("openssl pkcs8");
    Commands.run(Duration.ofSeconds(30), List.of("openssl", "x509", "-in", certPem.toString(),
        "-outform", "DER", "-out", certDer.toString())).requireSuccess("openssl x509");
    PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(
        new PKCS8EncodedKeySpec(Files.readAllBytes(keyDer)));
    String certificate = Base64.getEncoder().encodeToString(Files.readAllBytes(certDer));
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    TokenServer tokens = new TokenServer(server, key, certificate, certPem, user, password);
    server.createContext("/token", exchange -> {
      String query = exchange.getRequestURI().getQuery();
      String scope = "";
      for (String parameter : query == null ? new String[0] : query.split("&")) {
        if (parameter.startsWith("scope=")) {
          scope = java.net.URLDecoder.decode(parameter.substring(6), StandardCharsets.UTF_8);
        }
      }
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      String expected = "Basic " + Base64.getEncoder().encodeToString(
          (user + ":" + password).getBytes(StandardCharsets.UTF_8));
      boolean known = expected.equals(authorization);
      if (authorization != null && !known) {
        exchange.sendResponseHeaders(401, -1);
        exchange.close();
        return;
      }
      String[] parts = scope.split(":");
      String repository = parts.length >= 2 ? parts[1] : "";
      String token = tokens.mint(known ? repository : "", known ? user : "anonymous");
      byte[] body = ("{\"token\":\"" + token + "\",\"access_token\":\"" + token
          + "\",\"expires_in\":300}").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
      tokens.issued++;
    });
    server.start();
    return tokens;
  }

  /** The registry's {@code auth:} section for this service. */
  String registryConfig() {
    return "auth:\n  token:\n    realm: http://127.0.0.1:" + server.getAddress().getPort()
        + "/token\n    service: " + SERVICE + "\n    issuer: " + ISSUER
        + "\n    rootcertbundle: " + certificateFile + "\n";
  }

  /** A signed token granting pull and push on {@code repository} ("" for no access). */
  String mint(String repository, String subject) {
    long now = System.currentTimeMillis() / 1000;
    String header = "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"x5c\":[\"" + certificate + "\"]}";
    String access = repository.isEmpty() ? "[]"
        : "[{\"type\":\"repository\",\"name\":\"" + repository
            + "\",\"actions\":[\"pull\",\"push\"]}]";
    String claims = "{\"iss\":\"" + ISSUER + "\",\"sub\":\"" + subject + "\",\"aud\":\""
        + SERVICE + "\",\"exp\":" + (now + 300) + ",\"nbf\":" + (now - 30) + ",\"iat\":" + now
        + ",\"jti\":\"" + UUID.randomUUID() + "\",\"access\":" + access + "}";
    Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
    String signed = url.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
        + url.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
    try {
      Signature rsa = Signature.getInstance("SHA256withRSA");
      rsa.initSign(key);
      rsa.update(signed.getBytes(StandardCharsets.US_ASCII));
      return signed + "." + url.encodeToString(rsa.sign());
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
