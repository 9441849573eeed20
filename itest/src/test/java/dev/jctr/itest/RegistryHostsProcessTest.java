package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * containerd's hosts directory through the real daemon: a mirror serves a registry that does
 * not exist; a TLS registry with a self-signed certificate is refused until hosts.toml trusts
 * its CA, or skips verification.
 */
class RegistryHostsProcessTest {

  private static final Duration READY = Duration.ofSeconds(20);
  private static final Duration COMMAND = Duration.ofSeconds(60);

  @TempDir static Path shared;
  private static DaemonProcess daemon;

  @BeforeAll
  static void startDaemon() throws Exception {
    daemon = DaemonProcess.start(shared).awaitReady(READY).awaitServing(READY, "images", "ls");
  }

  @AfterAll
  static void stopDaemon() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
  }

  @Test
  void aMirrorAndATrustedCaServeThePull(@TempDir Path dir) throws Exception {
    OciArchive.Built image = OciArchive.image("unused", List.of(
        List.of(OciArchive.Entry.file("m.txt", "mirrored\n"))));
    Path registryDir = Files.createDirectories(dir.resolve("registry"));
    try (LocalRegistry registry = LocalRegistry.start(registryDir)) {
      registry.push("test/mirrored", "1", image);
      Path hosts = Files.createDirectories(dir.resolve("hosts"));
      Path nowhere = Files.createDirectories(hosts.resolve("nowhere.invalid"));
      Files.writeString(nowhere.resolve("hosts.toml"), "server = \"https://nowhere.invalid\"\n"
          + "[host.\"http://" + registry.host() + "\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
      CommandResult mirrored = jctr("-n", "mirror", "images", "pull", "--hosts-dir",
          hosts.toString(), "nowhere.invalid/test/mirrored:1");
      mirrored.requireSuccess("pull through the mirror");
      assertTrue(jctr("-n", "mirror", "images", "ls", "-q").stdout()
          .contains("nowhere.invalid/test/mirrored:1"));
      // content fetch: the image and its blobs, nothing unpacked
      jctr("-n", "fetched", "content", "fetch", "--plain-http", registry.host()
          + "/test/mirrored:1").requireSuccess("content fetch");
      assertEquals(3, jctr("-n", "fetched", "content", "ls", "-q").stdout().lines().count());
      assertEquals("", jctr("-n", "fetched", "snapshots", "ls", "-q").stdout().strip());
      // and Debian's ctr fetching client-side into jctrd's store
      Commands.run(COMMAND, List.of(Commands.requireTool("ctr", "containerd"), "--address",
          daemon.socket().toString(), "-n", "ctrfetch", "content", "fetch", "--plain-http",
          registry.host() + "/test/mirrored:1")).requireSuccess("ctr content fetch");
      assertEquals(3, jctr("-n", "ctrfetch", "content", "ls", "-q").stdout().lines().count());

      // the same storage served over TLS with a self-signed certificate
      String openssl = Commands.requireTool("openssl", "openssl");
      Commands.run(COMMAND, List.of(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
          "-keyout", dir.resolve("key.pem").toString(), "-out",
          dir.resolve("cert.pem").toString(), "-days", "1", "-subj", "/CN=127.0.0.1",
          "-addext", "subjectAltName=IP:127.0.0.1")).requireSuccess("openssl req");
      int port;
      try (ServerSocket probe = new ServerSocket(0)) {
        port = probe.getLocalPort();
      }
      Path config = Files.writeString(dir.resolve("tls.yml"), "version: 0.1\n"
          + "log:\n  level: warn\n"
          + "storage:\n  filesystem:\n    rootdirectory: " + registryDir.resolve("storage")
          + "\nhttp:\n  addr: 127.0.0.1:" + port + "\n  tls:\n    certificate: "
          + dir.resolve("cert.pem") + "\n    key: " + dir.resolve("key.pem") + "\n");
      Process tls = new ProcessBuilder(Commands.requireTool("docker-registry",
          "docker-registry"), "serve", config.toString()).redirectErrorStream(true)
          .redirectOutput(dir.resolve("tls.log").toFile()).start();
      try {
        awaitListening(port, tls);
        String ref = "127.0.0.1:" + port + "/test/mirrored:1";
        CommandResult refused = jctr("-n", "tls", "images", "pull", "--hosts-dir",
            hosts.toString(), ref);
        assertNotEquals(0, refused.exitCode());
        assertTrue(refused.stderr().contains("TLS with") && refused.stderr().contains("ca ="),
            refused.stderr());

        Path hostDir = Files.createDirectories(hosts.resolve("127.0.0.1:" + port));
        Files.copy(dir.resolve("cert.pem"), hostDir.resolve("ca.pem"));
        Files.writeString(hostDir.resolve("hosts.toml"), "ca = \"ca.pem\"\n");
        jctr("-n", "tls", "images", "pull", "--hosts-dir", hosts.toString(), ref)
            .requireSuccess("pull trusting the CA");

        Files.writeString(hostDir.resolve("hosts.toml"), "skip_verify = true\n");
        jctr("-n", "tls2", "images", "pull", "--hosts-dir", hosts.toString(), ref)
            .requireSuccess("pull skipping verification");
      } finally {
        tls.destroy();
        tls.waitFor();
      }
    }
  }

  private static void awaitListening(int port, Process process) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      try (Socket socket = new Socket("127.0.0.1", port)) {
        return;
      } catch (java.io.IOException e) {
        assertTrue(process.isAlive() && System.nanoTime() < deadline,
            "the TLS registry did not start");
        Thread.sleep(100);
      }
    }
  }

  private static CommandResult jctr(String... args) {
    return daemon.jctr(args);
  }
}
