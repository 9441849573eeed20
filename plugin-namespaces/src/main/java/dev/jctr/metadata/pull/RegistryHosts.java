package dev.jctr.metadata.pull;

import dev.jctr.api.errors.InvalidArgumentException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Where to fetch a registry's images from, as containerd's hosts directory says:
 * {@code <dir>/<host[:port]>/hosts.toml} (else {@code <dir>/_default/hosts.toml}) lists mirrors
 * ({@code [host."url"]}, tried in order) and then the {@code server}; each with
 * {@code capabilities} (pull, resolve), {@code ca} files trusted besides the JDK's store,
 * {@code skip_verify}, {@code override_path} and extra {@code header}s. A host directory with
 * no hosts.toml lends its {@code *.crt} files as CAs, as Docker's certs.d does.
 */
final class RegistryHosts {

  /** One place to fetch from: its {@code /v2} base URL and how to talk to it. */
  record Host(String v2, boolean pull, boolean resolve, HttpClient http,
      Map<String, String> headers) {}

  private RegistryHosts() {}

  /** The hosts for {@code reference}, mirrors first; {@code hostsDir} "" means none. */
  static List<Host> of(String hostsDir, ImageReference reference, boolean plainHttp)
      throws IOException {
    String defaultServer = (plainHttp ? "http://" : "https://") + reference.registry();
    Path dir = null;
    if (!hostsDir.isEmpty()) {
      Path specific = Path.of(hostsDir, reference.host());
      Path fallback = Path.of(hostsDir, "_default");
      dir = Files.isDirectory(specific) ? specific
          : Files.isDirectory(fallback) ? fallback : null;
    }
    if (dir == null) {
      return List.of(host(defaultServer, Settings.DEFAULT, null));
    }
    Path file = dir.resolve("hosts.toml");
    if (!Files.isRegularFile(file)) {
      List<Path> cas;
      try (Stream<Path> files = Files.list(dir)) {
        cas = files.filter(p -> p.getFileName().toString().endsWith(".crt")).sorted().toList();
      }
      return List.of(host(defaultServer, new Settings(true, true, cas, false, false, Map.of()),
          dir));
    }
    HostsFile.Parsed parsed = HostsFile.parse(Files.readString(file), file.toString());
    List<Host> hosts = new ArrayList<>();
    for (String url : parsed.hosts()) {
      hosts.add(host(url, settings(parsed.values(), "host\0" + url + "\0", dir), dir));
    }
    Object server = parsed.values().get("server");
    hosts.add(host(server instanceof String s ? s : defaultServer,
        settings(parsed.values(), "", dir), dir));
    return hosts;
  }

  /** One host's settings. */
  private record Settings(boolean pull, boolean resolve, List<Path> cas, boolean skipVerify,
      boolean overridePath, Map<String, String> headers) {
    static final Settings DEFAULT = new Settings(true, true, List.of(), false, false, Map.of());
  }

  private static Settings settings(Map<String, Object> values, String prefix, Path dir) {
    List<String> capabilities = strings(values.get(prefix + "capabilities"),
        List.of("pull", "resolve", "push"));
    List<Path> cas = strings(values.get(prefix + "ca"), List.of()).stream()
        .map(ca -> dir.resolve(ca)).toList();
    Map<String, String> headers = new LinkedHashMap<>();
    values.forEach((key, value) -> {
      if (key.startsWith(prefix + "header\0")) {
        String name = key.substring((prefix + "header\0").length());
        headers.put(name, value instanceof List<?> list ? String.valueOf(list.get(0))
            : String.valueOf(value));
      }
    });
    return new Settings(capabilities.contains("pull"), capabilities.contains("resolve"), cas,
        Boolean.TRUE.equals(values.get(prefix + "skip_verify")),
        Boolean.TRUE.equals(values.get(prefix + "override_path")), headers);
  }

  private static List<String> strings(Object value, List<String> otherwise) {
    if (value == null) {
      return otherwise;
    }
    if (value instanceof String s) {
      return List.of(s);
    }
    List<String> list = new ArrayList<>();
    for (Object item : (List<?>) value) {
      list.add(String.valueOf(item));
    }
    return list;
  }

  private static Host host(String url, Settings settings, Path dir) throws IOException {
    URI uri;
    try {
      uri = URI.create(url.contains("://") ? url : "https://" + url);
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException("hosts.toml in " + dir + ": bad URL \"" + url + "\"");
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
      throw new InvalidArgumentException("hosts.toml in " + dir + ": \"" + url
          + "\" is neither http nor https");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (!settings.overridePath() && !path.endsWith("/v2")) {
      path = path + "/v2";
    }
    HttpClient.Builder http = HttpClient.newBuilder()
        // HTTP/2 over TLS where offered; over plain HTTP no upgrade dance, as registries do
        .version(uri.getScheme().equals("http") ? HttpClient.Version.HTTP_1_1
            : HttpClient.Version.HTTP_2)
        .followRedirects(HttpClient.Redirect.NORMAL)
        .connectTimeout(Duration.ofSeconds(30));
    if (uri.getScheme().equals("https") && (settings.skipVerify()
        || !settings.cas().isEmpty())) {
      http.sslContext(tls(settings));
    }
    return new Host(uri.getScheme() + "://" + uri.getRawAuthority() + path, settings.pull(),
        settings.resolve(), http.build(), settings.headers());
  }

  private static SSLContext tls(Settings settings) throws IOException {
    try {
      TrustManager trust;
      if (settings.skipVerify()) {
        trust = new TrustingEverything();
      } else {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int n = 0;
        for (X509Certificate known : jdkTrust().getAcceptedIssuers()) {
          store.setCertificateEntry("jdk-" + n++, known);
        }
        CertificateFactory certificates = CertificateFactory.getInstance("X.509");
        for (Path ca : settings.cas()) {
          try (InputStream in = Files.newInputStream(ca)) {
            for (Certificate certificate : certificates.generateCertificates(in)) {
              store.setCertificateEntry("ca-" + n++, certificate);
            }
          } catch (java.nio.file.NoSuchFileException e) {
            throw new InvalidArgumentException("hosts.toml names CA file " + ca
                + ", which does not exist");
          }
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(
            TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        trust = factory.getTrustManagers()[0];
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {trust}, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException("TLS settings from hosts.toml: " + e.getMessage(), e);
    }
  }

  private static X509TrustManager jdkTrust() throws GeneralSecurityException {
    TrustManagerFactory factory = TrustManagerFactory.getInstance(
        TrustManagerFactory.getDefaultAlgorithm());
    factory.init((KeyStore) null);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        return x509;
      }
    }
    throw new GeneralSecurityException("the JDK has no X.509 trust manager");
  }

  /**
   * {@code skip_verify}: any certificate, any name. Being an extended trust manager, it is
   * also what would check the host name, so that check is skipped too.
   */
  private static final class TrustingEverything extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType,
        SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType,
        SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

}
