package dev.jctr.runtime.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.FailedPreconditionException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon's host calls against the real kernel (root: mount, unshare). */
class NativeLinuxHostTest {

  private final NativeLinuxHost host = new NativeLinuxHost();

  @BeforeAll
  static void requireRoot() {
    if (!System.getProperty("user.name").equals("root")) {
      throw new AssertionError("NativeLinuxHostTest needs root (mount, unshare)");
    }
  }

  @Test
  void aFifoReplacesAFileAndCarriesBytes(@TempDir Path dir) throws Exception {
    Path fifo = Files.writeString(dir.resolve("stdout"), "stale");
    host.makeFifo(fifo);
    int mode = (Integer) Files.getAttribute(fifo, "unix:mode");
    assertEquals(0010000, mode & 0170000, "S_IFIFO");
    assertEquals(0600, mode & 0777);
    Process writer = new ProcessBuilder("sh", "-c", "echo through > " + fifo).start();
    assertEquals("through\n", Files.readString(fifo));
    assertTrue(writer.waitFor(5, TimeUnit.SECONDS));
    assertThrows(FailedPreconditionException.class,
        () -> host.makeFifo(dir.resolve("absent/stdout")));
  }

  @Test
  void aPinnedNetworkNamespaceIsNewEmptyAndGoesAway(@TempDir Path dir) throws Exception {
    Path pin = dir.resolve("cni-test");
    host.pinNewNetworkNamespace(pin);
    try {
      assertTrue(host.isNamespacePinned(pin));
      assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString(),
          inode(pin), "a namespace of its own");
      // nsenter sees only a loopback device in it
      Process links = new ProcessBuilder("nsenter", "--net=" + pin, "ip", "-o", "link")
          .redirectErrorStream(true).start();
      String listed = new String(links.getInputStream().readAllBytes());
      assertTrue(links.waitFor(10, TimeUnit.SECONDS));
      assertEquals(1, listed.lines().count(), listed);
      assertTrue(listed.contains("lo:"), listed);
      // this JVM's own threads stayed where they were
      assertEquals(Files.readSymbolicLink(Path.of("/proc/self/task/"
          + ProcessHandle.current().pid() + "/ns/net")),
          Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")));
    } finally {
      assertTrue(host.unmount(pin));
    }
    assertFalse(host.isNamespacePinned(pin));
    assertFalse(host.unmount(pin), "nothing mounted any more");
    assertThrows(FailedPreconditionException.class, () -> host.pinNewNetworkNamespace(pin),
        "the pin file exists already");
  }

  @Test
  void aTmpfsMountsWithItsOptionsAndUnmounts(@TempDir Path dir) throws Exception {
    Path shm = Files.createDirectories(dir.resolve("shm"));
    host.mount("shm", shm, "tmpfs", List.of("nosuid", "nodev", "noexec", "mode=1777",
        "size=65536k"));
    try {
      assertEquals(0x01021994L, dev.jctr.runtime.linux.LinuxCalls.statfs(shm.toString())
          .type(), "TMPFS_MAGIC");
      assertEquals(01777, (Integer) Files.getAttribute(shm, "unix:mode") & 07777);
    } finally {
      assertTrue(host.unmount(shm));
    }
    assertFalse(host.isNamespacePinned(shm));
  }

  /** The namespace inode nsfs reports for a pin, as /proc/PID/ns links spell it. */
  private static String inode(Path pin) throws Exception {
    return "net:[" + Files.getAttribute(pin, "unix:ino") + "]";
  }
}
