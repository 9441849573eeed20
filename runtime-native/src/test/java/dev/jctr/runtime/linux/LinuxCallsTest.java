package dev.jctr.runtime.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.FailedPreconditionException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The libc calls against the real kernel (root needed for mount and setns). */
class LinuxCallsTest {

  @BeforeAll
  static void requireRoot() {
    if (!System.getProperty("user.name").equals("root")) {
      throw new AssertionError("LinuxCallsTest needs root (mount, setns)");
    }
  }

  @Test
  void statfsReportsTheFilesystemOfAPath(@TempDir Path dir) throws Exception {
    LinuxCalls.FsStats stats = LinuxCalls.statfs(dir.toString());
    assertTrue(stats.blockSize() > 0 && stats.totalBytes() > 0, stats.toString());
    assertTrue(stats.availableBytes() <= stats.freeBytes(), stats.toString());
    assertEquals(0x9fa0L, LinuxCalls.statfs("/proc").type(), "PROC_SUPER_MAGIC");
    assertThrows(FailedPreconditionException.class,
        () -> LinuxCalls.statfs(dir.resolve("absent").toString()));
  }

  @Test
  void aBindMountComesAndGoes(@TempDir Path dir) throws Exception {
    Path source = Files.createDirectories(dir.resolve("source"));
    Files.writeString(source.resolve("file"), "x");
    Path target = Files.createDirectories(dir.resolve("target"));
    LinuxCalls.mount(source.toString(), target.toString(), "none", List.of("rbind", "ro"));
    try {
      assertEquals("x", Files.readString(target.resolve("file")));
    } finally {
      assertTrue(LinuxCalls.unmount(target.toString(), false));
    }
    assertFalse(Files.exists(target.resolve("file")));
    assertFalse(LinuxCalls.unmount(target.toString(), false), "nothing mounted any more");
  }

  @Test
  void setnsIntoTheOwnNetworkNamespaceSucceedsAndABadPathIsRefused() {
    LinuxCalls.setns("/proc/self/ns/net", 0x40000000);
    assertThrows(FailedPreconditionException.class,
        () -> LinuxCalls.setns("/proc/self/ns/none", 0x40000000));
  }

  @Test
  void aPidfdWaitsForAProcessThatIsNotOurs() throws Exception {
    Process sleeper = new ProcessBuilder("sleep", "0.3").start();
    int pidfd = LinuxCalls.pidfdOpen((int) sleeper.pid());
    assertTrue(pidfd >= 0, "pidfd_open (Linux 5.3+)");
    CompletableFuture<Void> exited = CompletableFuture.runAsync(
        () -> LinuxCalls.awaitPidfd(pidfd));
    Thread.sleep(100);
    assertFalse(exited.isDone(), "still running");
    exited.get(5, TimeUnit.SECONDS);
    LinuxCalls.close(pidfd);
    assertTrue(sleeper.waitFor(5, TimeUnit.SECONDS));
  }

  @Test
  void waitingForAProcessThatIsNotOurChildSaysSo() {
    assertEquals(-1, LinuxCalls.waitFor(1), "pid 1 is nobody's child");
  }
}
