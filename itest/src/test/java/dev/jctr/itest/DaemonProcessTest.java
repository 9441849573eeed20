package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution as a user runs it: bin/jctrd on temporary directories, driven by bin/jctr and
 * by Debian's containerd client {@code ctr}.
 */
class DaemonProcessTest {

  private static final Duration READY = Duration.ofSeconds(20);
  private static final Duration COMMAND = Duration.ofSeconds(30);

  @TempDir static Path shared;
  private static DaemonProcess daemon;
  private static String ctr;

  @BeforeAll
  static void startDaemon() throws Exception {
    ctr = Commands.requireTool("ctr", "containerd");
    daemon = DaemonProcess.start(shared).awaitReady(READY);
  }

  @AfterAll
  static void stopDaemon() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
  }

  @Test
  void ctrVersionPrintsJctrServerVersionAndUuid() {
    CommandResult ctrOut = run(ctr, "--address", daemon.socket().toString(), "version")
        .requireSuccess("ctr version");
    CommandResult jctrOut = jctr("--address", daemon.socket().toString(), "version")
        .requireSuccess("jctr version");
    String uuid = field(ctrOut.stdout(), "UUID");
    assertTrue(uuid.matches("[0-9a-f-]{36}"), "ctr printed no UUID:\n" + ctrOut.stdout());
    assertEquals(uuid, field(jctrOut.stdout(), "UUID"), "jctr and ctr disagree on the UUID");
    String serverPart = ctrOut.stdout().substring(ctrOut.stdout().indexOf("Server:"));
    assertEquals("0.1.0", field(serverPart, "Version"));
  }

  @Test
  void ctrAndJctrListTheSamePluginsAsOk() {
    CommandResult ctrOut = run(ctr, "--address", daemon.socket().toString(), "plugins", "ls")
        .requireSuccess("ctr plugins ls");
    // options after the subcommand, as in `jctr containers list --namespace k8s.io`
    CommandResult jctrOut = jctr("plugins", "ls", "--address", daemon.socket().toString())
        .requireSuccess("jctr plugins ls");
    List<String> ctrRows = rows(ctrOut.stdout());
    List<String> jctrRows = rows(jctrOut.stdout());
    assertEquals("TYPE ID PLATFORMS STATUS", ctrRows.get(0));
    assertEquals(ctrRows, jctrRows, "jctr and ctr print different plugin tables");
    for (String id : List.of("version", "introspection", "healthcheck")) {
      assertTrue(ctrRows.contains("io.containerd.grpc.v1 " + id + " - ok"),
          "missing " + id + " ok in\n" + ctrOut.stdout());
    }
  }

  @Test
  void jsonFormatListsPluginsAsJson() {
    CommandResult out = jctr("--format", "json", "plugins", "ls", "type==io.containerd.grpc.v1",
        "--address", daemon.socket().toString()).requireSuccess("jctr plugins ls --format json");
    assertTrue(out.stdout().strip().startsWith("[{"), out.stdout());
    assertTrue(out.stdout().contains("\"id\":\"introspection\""), out.stdout());
  }

  @Test
  void invalidNamespaceIsInvalidArgumentNamingIt() {
    CommandResult jctrOut = jctr("-n", "bad!ns", "--address", daemon.socket().toString(),
        "version");
    assertNotEquals(0, jctrOut.exitCode());
    assertTrue(jctrOut.stderr().contains("namespace \"bad!ns\""), jctrOut.stderr());
    assertTrue(jctrOut.stderr().contains("INVALID_ARGUMENT"), jctrOut.stderr());

    CommandResult ctrOut = run(ctr, "--address", daemon.socket().toString(), "-n", "bad!ns",
        "plugins", "ls");
    assertNotEquals(0, ctrOut.exitCode());
    assertTrue(ctrOut.stderr().contains("bad!ns") && ctrOut.stderr().contains("invalid argument"),
        ctrOut.stderr());
  }

  @Test
  void secondDaemonOnTheSameSocketFailsClearlyAndTheFirstKeepsServing(@TempDir Path dir)
      throws Exception {
    List<String> command = List.of(Distribution.jctrd().toString(),
        "--root", dir.resolve("root").toString(), "--state", dir.resolve("state").toString(),
        "--address", daemon.socket().toString());
    try (DaemonProcess second = DaemonProcess.launch(command, daemon.socket(),
        dir.resolve("second.log"))) {
      assertTrue(second.process().waitFor(20, TimeUnit.SECONDS), "second jctrd kept running");
      assertNotEquals(0, second.process().exitValue());
      assertTrue(second.log().contains("already serving " + daemon.socket()), second.log());
    }
    jctr("--address", daemon.socket().toString(), "version").requireSuccess("jctr version");
  }

  @Test
  void socketIsGroupOnlyAndItsFreshDirectoryIsTraverseOnly() throws IOException {
    assertEquals("rw-rw----", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(daemon.socket())));
    assertEquals("rwx--x--x", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(daemon.socket().getParent())));
  }

  @Test
  void staleSocketFileIsReplaced(@TempDir Path dir) throws Exception {
    Path socket = dir.resolve("run/jctrd.sock");
    Files.createDirectories(socket.getParent());
    try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      stale.bind(UnixDomainSocketAddress.of(socket)); // closing leaves the file behind
    }
    assertTrue(Files.exists(socket));
    try (DaemonProcess fresh = DaemonProcess.start(dir).awaitReady(READY)) {
      jctr("--address", socket.toString(), "version").requireSuccess("jctr version");
    }
    assertFalse(Files.exists(socket), "jctrd left its socket behind after SIGTERM");
  }

  @Test
  void bundlesDroppedInOrRemovedChangeTheRunningDaemon(@TempDir Path dir) throws Exception {
    Path bundles = dir.resolve("bundles");
    Files.createDirectories(bundles);
    try (Stream<Path> jars = Files.list(Distribution.home().resolve("bundles"))) {
      for (Path jar : jars.toList()) {
        Files.copy(jar, bundles.resolve(jar.getFileName()));
      }
    }
    Path health;
    try (Stream<Path> jars = Files.list(bundles)) {
      health = jars.filter(p -> p.getFileName().toString().startsWith("plugin-healthcheck"))
          .findFirst().orElseThrow();
    }
    Path parked = dir.resolve(health.getFileName());
    try (DaemonProcess hot = DaemonProcess.start(dir, "--bundles", bundles.toString())
        .awaitReady(READY)) {
      String socket = hot.socket().toString();
      awaitPlugin(socket, "healthcheck", true);
      Files.move(health, parked);
      awaitPlugin(socket, "healthcheck", false);
      Files.copy(parked, health, StandardCopyOption.COPY_ATTRIBUTES);
      awaitPlugin(socket, "healthcheck", true);
    }
  }

  @Test
  void disabledPluginsAreNotLoaded(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("config.toml");
    Files.writeString(config, "version = 3\n"
        + "disabled_plugins = [\"io.containerd.grpc.v1.healthcheck\"]\n");
    try (DaemonProcess limited = DaemonProcess.start(dir, "--config", config.toString())
        .awaitReady(READY)) {
      String table = jctr("--address", limited.socket().toString(), "plugins", "ls")
          .requireSuccess("jctr plugins ls").stdout();
      assertTrue(table.contains("introspection"), table);
      assertFalse(table.contains("healthcheck"), table);
    }
  }

  @Test
  void configDefaultPrintsAConfigTheDaemonAccepts(@TempDir Path dir) throws Exception {
    CommandResult out = run(Distribution.jctrd().toString(), "config", "default")
        .requireSuccess("jctrd config default");
    assertTrue(out.stdout().contains("version = 3"), out.stdout());
    assertTrue(out.stdout().contains("[grpc]"), out.stdout());
    Path config = dir.resolve("config.toml");
    Files.writeString(config, out.stdout());
    try (DaemonProcess configured = DaemonProcess.start(dir, "--config", config.toString())
        .awaitReady(READY)) {
      jctr("--address", configured.socket().toString(), "version").requireSuccess("version");
    }
  }

  @Test
  void brokenConfigStopsTheDaemonWithTheLineAtFault(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("config.toml");
    Files.writeString(config, "version = 3\n[grpc\naddress = 1\n");
    CommandResult out = run(Distribution.jctrd().toString(), "--config", config.toString(),
        "--root", dir.resolve("root").toString(), "--state", dir.resolve("state").toString());
    assertNotEquals(0, out.exitCode());
    assertTrue(out.stderr().contains(config + ": line 2"), out.stderr());
  }

  private static void awaitPlugin(String socket, String id, boolean present)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    String last = "";
    while (System.nanoTime() < deadline) {
      CommandResult out = jctr("--address", socket, "plugins", "ls", "id==" + id);
      last = out.stdout() + out.stderr();
      boolean listed = out.exitCode() == 0 && rows(out.stdout()).contains(
          "io.containerd.grpc.v1 " + id + " - ok");
      if (listed == present) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("plugin " + id + (present ? " never appeared" : " never left")
        + "; last listing:\n" + last);
  }

  private static CommandResult jctr(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Distribution.jctr().toString());
    command.addAll(List.of(args));
    return Commands.run(COMMAND, command);
  }

  private static CommandResult run(String... command) {
    return Commands.run(COMMAND, List.of(command));
  }

  /** Table rows with runs of spaces collapsed, so column widths do not matter. */
  private static List<String> rows(String table) {
    return table.lines().map(l -> l.strip().replaceAll("\\s+", " ")).filter(l -> !l.isEmpty())
        .toList();
  }

  /** The value after {@code name:} on the first line that has it. */
  private static String field(String text, String name) {
    Matcher matcher = Pattern.compile("(?m)^\\s*" + name + ":\\s*(\\S+)").matcher(text);
    if (!matcher.find()) {
      throw new AssertionError("no " + name + " in:\n" + text);
    }
    return matcher.group(1);
  }
}
