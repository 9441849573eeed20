package dev.jctr.metadata.pull;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.InvalidArgumentException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryHostsTest {

  @TempDir Path dir;

  @Test
  void hostsTomlListsMirrorsInOrderThenTheServerWithTheirSettings() throws Exception {
    Path host = Files.createDirectories(dir.resolve("registry.example:5000"));
    Files.writeString(host.resolve("hosts.toml"), """
        # mirrors first
        server = "https://registry.example:5000"

        [host."http://mirror-a:5000"]
          capabilities = ["pull", "resolve"]
          [host."http://mirror-a:5000".header]
            x-team = "build"   # a comment after a value

        [host.'https://mirror-b/custom/path']
          capabilities = ["pull"]
          override_path = true
          skip_verify = true
        """);
    List<RegistryHosts.Host> hosts = RegistryHosts.of(dir.toString(),
        ImageReference.parse("registry.example:5000/team/app:1"), false);
    assertEquals(List.of("http://mirror-a:5000/v2", "https://mirror-b/custom/path",
        "https://registry.example:5000/v2"), hosts.stream().map(RegistryHosts.Host::v2)
        .toList());
    assertEquals(Map.of("x-team", "build"), hosts.get(0).headers());
    assertTrue(hosts.get(1).pull());
    assertFalse(hosts.get(1).resolve(), "mirror-b may pull by digest only");
    assertTrue(hosts.get(2).resolve());
  }

  @Test
  void withoutAHostDirectoryTheRegistryItselfIsTheOnlyHost() throws Exception {
    assertEquals(List.of("https://registry-1.docker.io/v2"), RegistryHosts.of(dir.toString(),
        ImageReference.parse("busybox"), false).stream().map(RegistryHosts.Host::v2).toList());
    assertEquals(List.of("http://127.0.0.1:5000/v2"), RegistryHosts.of("",
        ImageReference.parse("127.0.0.1:5000/a:1"), true).stream()
        .map(RegistryHosts.Host::v2).toList());
  }

  @Test
  void theDefaultDirectoryServesEveryRegistryWithoutItsOwn() throws Exception {
    Path fallback = Files.createDirectories(dir.resolve("_default"));
    Files.writeString(fallback.resolve("hosts.toml"), "[host.\"http://cache:5000\"]\n");
    assertEquals(List.of("http://cache:5000/v2", "https://other.example/v2"),
        RegistryHosts.of(dir.toString(), ImageReference.parse("other.example/a:1"), false)
            .stream().map(RegistryHosts.Host::v2).toList());
  }

  @Test
  void malformedHostsFilesAreRefusedWithTheirLine() throws Exception {
    Path host = Files.createDirectories(dir.resolve("bad.example"));
    Files.writeString(host.resolve("hosts.toml"), "server = \"https://x\"\nnot a pair\n");
    InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () ->
        RegistryHosts.of(dir.toString(), ImageReference.parse("bad.example/a:1"), false));
    assertTrue(e.getMessage().contains("hosts.toml:2"), e.getMessage());
    Files.writeString(host.resolve("hosts.toml"), "server = \"ftp://x\"\n");
    assertThrows(InvalidArgumentException.class, () ->
        RegistryHosts.of(dir.toString(), ImageReference.parse("bad.example/a:1"), false));
    Files.writeString(host.resolve("hosts.toml"), "ca = \"missing.pem\"\n");
    assertThrows(InvalidArgumentException.class, () ->
        RegistryHosts.of(dir.toString(), ImageReference.parse("bad.example/a:1"), false));
  }
}
