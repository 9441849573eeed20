package dev.jctr.runtime.runc;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver against Debian's real runc, as root, with a busybox root filesystem. (crun refuses
 * this machine's hybrid cgroup layout: "cgroups in hybrid mode not supported"; its runs wait
 * for the cgroup manager setting.)
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

  @Test
  @Timeout(120)
  void runcCreatesStartsListsKillsAndDeletesAContainer() throws Exception {
    lifecycle(require("runc"));
  }

  private void lifecycle(String binary) throws Exception {
    String name = Path.of(binary).getFileName().toString();
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
    NotFoundException gone = assertThrows(NotFoundException.class, () -> runtime.state(id));
    assertTrue(gone.getMessage().contains(id), gone.getMessage());
  }

  @Test
  @Timeout(120)
  void aFailureCarriesRuncsOwnMessage() throws Exception {
    RuncRuntime runtime = new RuncRuntime(require("runc"), dir.resolve("runc-root"));
    Path bundle = bundle("broken", "/no/such/program");
    String id = "jctr-broken-" + ProcessHandle.current().pid();
    FailedPreconditionException failed = assertThrows(FailedPreconditionException.class,
        () -> runtime.create(id, bundle, dir.resolve("broken.pid")));
    assertTrue(failed.getMessage().contains("/no/such/program"), failed.getMessage());
    try {
      runtime.delete(id, true);
    } catch (NotFoundException e) {
      // runc cleaned up after itself
    }
    assertThrows(NotFoundException.class, () -> runtime.kill("jctr-never-created", 9, false));
  }
}
