package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The content store through the real daemon, with Debian's {@code ctr} and {@code jctr}. */
class ContentProcessTest {

  private static final Duration READY = Duration.ofSeconds(20);
  private static final Duration COMMAND = Duration.ofSeconds(60);

  @TempDir static Path shared;
  private static DaemonProcess daemon;
  private static String ctr;

  @BeforeAll
  static void startDaemon() throws Exception {
    ctr = Commands.requireTool("ctr", "containerd");
    daemon = DaemonProcess.start(shared).awaitReady(READY).awaitServing(READY, "content", "ls");
  }

  @AfterAll
  static void stopDaemon() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
  }

  private static String sha256(byte[] data) throws Exception {
    return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(data));
  }

  @Test
  void ctrIngestsAndReadsBlobsThatOnlyTheirNamespaceSees(@TempDir Path dir) throws Exception {
    byte[] data = new byte[4 << 20];
    new Random(4).nextBytes(data);
    Path file = Files.write(dir.resolve("blob"), data);
    String digest = sha256(data);
    sh(ctr + " --address " + daemon.socket() + " -n k8s.io content ingest --expected-digest "
        + digest + " --expected-size " + data.length + " ref-1 < " + file)
        .requireSuccess("ctr content ingest");
    assertTrue(ctr("-n", "k8s.io", "content", "ls").stdout().contains(digest));
    assertFalse(ctr("-n", "moby", "content", "ls").stdout().contains(digest));
    Path got = dir.resolve("got");
    sh(Distribution.jctr() + " --address " + daemon.socket() + " -n k8s.io content get "
        + digest + " > " + got).requireSuccess("jctr content get");
    assertEquals(digest, sha256(Files.readAllBytes(got)));
    CommandResult other = jctr("-n", "moby", "content", "get", digest);
    assertNotEquals(0, other.exitCode());
    assertTrue(other.stderr().contains("NOT_FOUND"), other.stderr());

    ctr("-n", "k8s.io", "content", "label", digest, "team=blue").requireSuccess("label");
    assertTrue(jctr("-n", "k8s.io", "content", "ls").stdout().contains("team=blue"));
    jctr("-n", "k8s.io", "content", "rm", digest).requireSuccess("jctr content rm");
    assertFalse(ctr("-n", "k8s.io", "content", "ls").stdout().contains(digest));
  }

  @Test
  void aShortIngestStaysActiveAndResumesWithTheRest(@TempDir Path dir) throws Exception {
    byte[] data = new byte[2 << 20];
    new Random(5).nextBytes(data);
    String digest = sha256(data);
    Path half = Files.write(dir.resolve("half"), java.util.Arrays.copyOf(data, 1 << 20));
    CommandResult shortIngest = sh(ctr + " --address " + daemon.socket()
        + " -n k8s.io content ingest --expected-digest " + digest + " --expected-size "
        + data.length + " partial < " + half);
    assertNotEquals(0, shortIngest.exitCode(), "committing half the bytes must fail");
    String active = jctr("-n", "k8s.io", "content", "active").requireSuccess("active").stdout();
    assertTrue(active.contains("partial") && active.contains("1.0 MiB/2.0 MiB"), active);
    assertFalse(ctr("-n", "k8s.io", "content", "ls").stdout().contains(digest),
        "no blob from a short ingest");

    Path whole = Files.write(dir.resolve("whole"), data);
    sh(ctr + " --address " + daemon.socket() + " -n k8s.io content ingest --expected-digest "
        + digest + " --expected-size " + data.length + " partial < " + whole)
        .requireSuccess("ingest again");
    assertTrue(ctr("-n", "k8s.io", "content", "ls").stdout().contains(digest));
    assertFalse(jctr("-n", "k8s.io", "content", "active").stdout().contains("partial"));
    jctr("-n", "k8s.io", "content", "rm", digest).requireSuccess("cleanup");
  }

  private static CommandResult sh(String line) {
    return Commands.run(COMMAND, List.of("sh", "-c", line));
  }

  private static CommandResult ctr(String... args) {
    List<String> command = new ArrayList<>(List.of(ctr, "--address", daemon.socket().toString()));
    command.addAll(List.of(args));
    return Commands.run(COMMAND, command);
  }

  private static CommandResult jctr(String... args) {
    return daemon.jctr(args);
  }
}
