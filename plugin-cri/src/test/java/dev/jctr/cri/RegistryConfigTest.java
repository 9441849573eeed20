package dev.jctr.cri;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CRI registry section as the kernel hands it over (flattened, hosts kept as written). */
class RegistryConfigTest {

  @Test
  void nothingConfiguredReadsTheDefaultHostsDirectory(@TempDir Path dir) throws Exception {
    RegistryConfig config = RegistryConfig.from(Map.of("sandboxImage", "x"));
    assertEquals(RegistryConfig.DEFAULT_CONFIG_PATH, config.hostsDir(dir.resolve("gen")));
    assertFalse(Files.exists(dir.resolve("gen")), "nothing written");
  }

  @Test
  void configPathIsUsedAsItIs(@TempDir Path dir) throws Exception {
    RegistryConfig config = RegistryConfig.from(Map.of("registry.configPath", "/etc/hosts.d"));
    assertEquals("/etc/hosts.d", config.hostsDir(dir.resolve("gen")));
  }

  @Test
  void inlineMirrorsBecomeAHostsDirectoryInOrder(@TempDir Path dir) throws Exception {
    RegistryConfig config = RegistryConfig.from(Map.of(
        "registry.mirrors.my-registry.example:5000.endpoint",
        new String[] {"http://127.0.0.1:5000", "mirror.example"},
        "registry.mirrors.*.endpoint", new String[] {"https://everything.example"},
        "registry.configs.mirror.example.tls.insecureSkipVerify", Boolean.TRUE,
        "registry.configs.quay.io.tls.caFile", "/etc/ssl/quay \"ca\".pem"));
    Path generated = dir.resolve("gen");
    Files.createDirectories(generated.resolve("stale.example"));
    assertEquals(generated.toString(), config.hostsDir(generated));
    assertFalse(Files.exists(generated.resolve("stale.example")), "rewritten each time");

    String mine = Files.readString(generated.resolve("my-registry.example:5000/hosts.toml"));
    int first = mine.indexOf("[host.\"http://127.0.0.1:5000\"]");
    int second = mine.indexOf("[host.\"https://mirror.example\"]");
    assertTrue(first > 0 && second > first, mine);
    assertTrue(mine.substring(second).contains("skip_verify = true"), mine);
    assertFalse(mine.substring(first, second).contains("skip_verify"), mine);
    assertFalse(mine.contains("server ="), "the registry itself stays the last resort");

    String everything = Files.readString(generated.resolve("_default/hosts.toml"));
    assertTrue(everything.contains("[host.\"https://everything.example\"]"), everything);
    // a host with only TLS settings still gets the "*" mirrors, then its own CA
    String quay = Files.readString(generated.resolve("quay.io/hosts.toml"));
    assertTrue(quay.contains("ca = \"/etc/ssl/quay \\\"ca\\\".pem\""), quay);
    assertTrue(quay.contains("[host.\"https://everything.example\"]"), quay);
  }

  @Test
  void configuredCredentialsServePullsWithoutTheirOwn() {
    String encoded = Base64.getEncoder().encodeToString("robot:s3cret".getBytes());
    RegistryConfig config = RegistryConfig.from(Map.of(
        "registry.configs.127.0.0.1:5000.auth.username", "alice",
        "registry.configs.127.0.0.1:5000.auth.password", "pw",
        "registry.configs.quay.io.auth.auth", encoded,
        "registry.configs.ghcr.io.auth.identitytoken", "token"));
    assertEquals(new RegistryConfig.Credentials("alice", "pw"),
        config.credentialsFor("127.0.0.1:5000"));
    assertEquals(new RegistryConfig.Credentials("robot", "s3cret"),
        config.credentialsFor("quay.io"));
    assertEquals(new RegistryConfig.Credentials("", "token"), config.credentialsFor("ghcr.io"));
    assertEquals(new RegistryConfig.Credentials("", ""), config.credentialsFor("docker.io"));
    assertThrows(IllegalArgumentException.class, () -> RegistryConfig.from(Map.of(
        "registry.configs.quay.io.auth.auth",
        Base64.getEncoder().encodeToString("no-colon".getBytes()))));
  }

  @Test
  void configPathWithInlineMirrorsIsRefusedNamingBoth() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> RegistryConfig.from(Map.of("registry.configPath", "/etc/containerd/certs.d",
            "registry.mirrors.docker.io.endpoint", new String[] {"https://m.example"})));
    assertTrue(refused.getMessage().contains("config_path")
        && refused.getMessage().contains("mirrors"), refused.getMessage());
  }

  @Test
  void aMirrorKeyThatIsNoHostIsRefused(@TempDir Path dir) {
    RegistryConfig config = RegistryConfig.from(Map.of("registry.mirrors.../x.endpoint",
        new String[] {"https://m.example"}));
    assertThrows(IllegalArgumentException.class, () -> config.hostsDir(dir.resolve("gen")));
    assertFalse(Files.exists(dir.resolve("x")));
  }
}
