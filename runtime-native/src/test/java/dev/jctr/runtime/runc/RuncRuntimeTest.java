package dev.jctr.runtime.runc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.runtime.OciRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The driver against Debian's real runc and crun, as root, with a busybox root filesystem. On a
 * hybrid cgroup host crun needs scripts/prepare-cgroups.sh first: it refuses ("cgroups in
 * hybrid mode not supported") while the cgroup2 hierarchy holds any controller.
 */
class RuncRuntimeTest {

  @TempDir Path dir;

  private static String require(String binary) {
    for (String path : List.of("/usr/sbin/" + binary, "/usr/bin/" + binary)) {
      if (Files.isExecutable(Path.of(path))) {
        return path;
      }
    }
    throw new AssertionError(binary + " is not installed: run scripts/install-deps.sh (as root)");
  }

  /** A bundle whose process is {@code args}, on a rootfs holding busybox. */
  private Path bundle(String name, String... args) throws Exception {
    assertEquals("root", System.getProperty("user.name"), "these tests need root");
    Path busybox = Path.of("/bin/busybox");
    assertTrue(Files.isExecutable(busybox), "busybox-static is not installed: run"
        + " scripts/install-deps.sh");
    Path bundle = Files.createDirectories(dir.resolve(name));
    Path bin = Files.createDirectories(bundle.resolve("rootfs/bin"));
    Files.copy(busybox, bin.resolve("busybox"));
    for (String applet : List.of("sh", "sleep", "true")) {
      Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
    }
    for (String empty : List.of("proc", "dev", "sys", "tmp")) {
      Files.createDirectories(bundle.resolve("rootfs").resolve(empty));
    }
    Process spec = new ProcessBuilder(require("runc"), "spec").directory(bundle.toFile())
        .redirectErrorStream(true).start();
    assertEquals(0, spec.waitFor(), new String(spec.getInputStream().readAllBytes()));
    JsonObject config = JsonParser.parseString(Files.readString(bundle.resolve("config.json")))
        .getAsJsonObject();
    JsonObject process = config.getAsJsonObject("process");
    process.addProperty("terminal", false);
    JsonArray argv = new JsonArray();
    for (String arg : args) {
      argv.add(arg);
    }
    process.add("args", argv);
    Files.writeString(bundle.resolve("config.json"), config.toString());
    return bundle;
  }

  @ParameterizedTest
  @ValueSource(strings = {"runc", "crun"})
  @Timeout(120)
  void createsStartsListsKillsAndDeletesAContainer(String name) throws Exception {
    String binary = require(name);
    RuncRuntime runtime = new RuncRuntime(binary, dir.resolve(name + "-root"));
    String id = "jctr-" + name + "-" + ProcessHandle.current().pid();
    Path bundle = bundle(name + "-bundle", "sleep", "60");
    runtime.create(id, bundle, dir.resolve(name + ".pid"));
    try {
      OciRuntime.State created = runtime.state(id);
      assertEquals("created", created.status());
      int pid = Integer.parseInt(Files.readString(dir.resolve(name + ".pid")).strip());
      assertEquals(pid, created.pid());
      runtime.start(id);
      assertEquals("running", runtime.state(id).status());
      assertTrue(runtime.ps(id).contains(pid), "ps lists the process");
      runtime.kill(id, 9, false);
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!runtime.state(id).status().equals("stopped")) {
        assertTrue(System.nanoTime() < deadline, "not stopped after SIGKILL");
        Thread.sleep(50);
      }
    } finally {
      runtime.delete(id, true);
    }
    assertFalse(Files.exists(dir.resolve(name + "-root").resolve(id + ".log")),
        "its log goes with it");
    NotFoundException gone = assertThrows(NotFoundException.class, () -> runtime.state(id));
    assertTrue(gone.getMessage().contains(id), gone.getMessage());
  }

  /** A process the runtime cannot start, and a container it never made. */
  @ParameterizedTest
  @ValueSource(strings = {"runc", "crun"})
  @Timeout(120)
  void aFailureCarriesTheRuntimesOwnMessage(String name) throws Exception {
    String binary = require(name);
    RuncRuntime runtime = new RuncRuntime(binary, dir.resolve(name + "-root"));
    Path bundle = bundle(name + "-broken", "/no/such/program");
    String id = "jctr-broken-" + name + "-" + ProcessHandle.current().pid();
    FailedPreconditionException failed = assertThrows(FailedPreconditionException.class,
        () -> runtime.create(id, bundle, dir.resolve(name + "-broken.pid")));
    assertTrue(failed.getMessage().contains("/no/such/program"), failed.getMessage());
    assertTrue(failed.getMessage().startsWith(binary + " create " + id + ": "),
        failed.getMessage());
    try {
      runtime.delete(id, true);
    } catch (NotFoundException e) {
      // the runtime cleaned up after itself
    }
    String ghost = "jctr-never-created";
    List<Executable> unknown = List.of(() -> runtime.state(ghost),
        () -> runtime.kill(ghost, 9, false), () -> runtime.start(ghost),
        () -> runtime.delete(ghost, false), () -> runtime.ps(ghost));
    for (Executable call : unknown) {
      NotFoundException never = assertThrows(NotFoundException.class, call);
      assertTrue(never.getMessage().contains(ghost), never.getMessage());
    }
  }
}
