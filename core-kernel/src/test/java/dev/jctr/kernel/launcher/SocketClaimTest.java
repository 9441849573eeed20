package dev.jctr.kernel.launcher;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SocketClaimTest {

  @TempDir Path dir;

  @Test
  void staleSocketFileIsRemoved() throws Exception {
    Path socket = dir.resolve("jctrd.sock");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
    }
    assertTrue(Files.exists(socket));
    try (SocketClaim claim = SocketClaim.claim(socket)) {
      assertFalse(Files.exists(socket));
    }
  }

  @Test
  void liveServerOnThePathIsNeverTouched() throws Exception {
    Path socket = dir.resolve("jctrd.sock");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      var e = assertThrows(SocketClaim.AlreadyServingException.class,
          () -> SocketClaim.claim(socket));
      assertTrue(e.getMessage().contains("another server is listening on " + socket),
          e.getMessage());
      assertTrue(Files.exists(socket));
    }
  }

  @Test
  void secondClaimOnTheSameSocketFailsWhileTheFirstIsHeld() throws Exception {
    Path socket = dir.resolve("run/jctrd.sock");
    try (SocketClaim first = SocketClaim.claim(socket)) {
      var e = assertThrows(SocketClaim.AlreadyServingException.class,
          () -> SocketClaim.claim(socket));
      assertTrue(e.getMessage().contains("already serving " + socket), e.getMessage());
    }
    try (SocketClaim again = SocketClaim.claim(socket)) {
      assertTrue(Files.isDirectory(socket.getParent()));
    }
  }
}
