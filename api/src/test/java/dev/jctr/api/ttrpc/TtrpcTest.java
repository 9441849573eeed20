package dev.jctr.api.ttrpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.proto.ttrpc.Request;
import dev.jctr.api.proto.ttrpc.Response;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ttrpc framing against bytes written from the protocol description, and a real socket. */
class TtrpcTest {

  private static final HexFormat HEX = HexFormat.of();

  /** Request{service "s", method "m", payload 08 01} on stream 1, unary. */
  private static final String UNARY_REQUEST = "0000000a" + "00000001" + "01" + "00"
      + "0a0173" + "12016d" + "1a020801";

  @Test
  void aUnaryRequestFrameIsTheBytesTheProtocolDescribes() {
    Request request = Request.newBuilder().setService("s").setMethod("m")
        .setPayload(com.google.protobuf.ByteString.copyFrom(new byte[] {8, 1})).build();
    byte[] encoded = new Frame(1, Frame.REQUEST, (byte) 0, request.toByteArray()).encode();
    assertEquals(UNARY_REQUEST, HEX.formatHex(encoded));
  }

  @Test
  void framesAreReadBackAndShortOrOversizedOnesAreRefused() throws Exception {
    Frame frame = Frame.read(new ByteArrayInputStream(HEX.parseHex(UNARY_REQUEST)));
    assertEquals(1, frame.streamId());
    assertEquals(Frame.REQUEST, frame.type());
    assertEquals("m", Request.parseFrom(frame.payload()).getMethod());
    assertNull(Frame.read(new ByteArrayInputStream(new byte[0])), "clean end");
    assertThrows(EOFException.class, () -> Frame.read(new ByteArrayInputStream(
        HEX.parseHex("0000000a0000"))));
    assertThrows(EOFException.class, () -> Frame.read(new ByteArrayInputStream(
        HEX.parseHex("0000000a000000010100" + "0a01"))));
    // a 4 MiB + 1 payload is skipped and reported; the frame after it reads normally
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    stream.write(HEX.parseHex("00400001" + "00000003" + "01" + "00"));
    stream.write(new byte[(4 << 20) + 1]);
    stream.write(HEX.parseHex(UNARY_REQUEST));
    InputStream in = new ByteArrayInputStream(stream.toByteArray());
    Frame.TooLargeException tooLarge = assertThrows(Frame.TooLargeException.class,
        () -> Frame.read(in));
    assertEquals(3, tooLarge.streamId());
    assertEquals(1, Frame.read(in).streamId());
  }

  @Test
  void clientAndServerCallOverAUnixSocketConcurrently(@TempDir Path dir) throws Exception {
    Path socket = dir.resolve("ttrpc.sock");
    try (TtrpcServer server = new TtrpcServer()
        .register("test.v1.Echo", "Echo", (payload, metadata) -> {
          String namespace = metadata.getOrDefault("containerd-namespace-ttrpc", List.of("-"))
              .get(0);
          return (namespace + ":" + new String(payload, StandardCharsets.UTF_8))
              .getBytes(StandardCharsets.UTF_8);
        })
        .register("test.v1.Echo", "Missing", (payload, metadata) -> {
          throw new NotFoundException("container \"x\"");
        })
        .listen(socket);
        TtrpcClient client = TtrpcClient.connect(socket)) {
      Map<String, String> metadata = Map.of("containerd-namespace-ttrpc", "k8s.io");
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<String>> calls = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          String text = "call-" + i;
          calls.add(pool.submit(() -> new String(client.call("test.v1.Echo", "Echo",
              text.getBytes(StandardCharsets.UTF_8), metadata, Duration.ofSeconds(10)),
              StandardCharsets.UTF_8)));
        }
        for (int i = 0; i < 50; i++) {
          assertEquals("k8s.io:call-" + i, calls.get(i).get());
        }
      }
      TtrpcException missing = assertThrows(TtrpcException.class, () -> client.call(
          "test.v1.Echo", "Missing", new byte[0], Map.of(), null));
      assertEquals(Status.Code.NOT_FOUND, missing.code());
      assertEquals("container \"x\": not found", missing.statusMessage());
      assertEquals(Status.Code.UNIMPLEMENTED, assertThrows(TtrpcException.class,
          () -> client.call("test.v1.Nope", "Echo", new byte[0], Map.of(), null)).code());
      TtrpcException noMethod = assertThrows(TtrpcException.class,
          () -> client.call("test.v1.Echo", "Nope", new byte[0], Map.of(), null));
      assertEquals("method Nope", noMethod.statusMessage());
    }
  }

  @Test
  void anInterruptedCallerLeavesASharedConnectionWorking(@TempDir Path dir) throws Exception {
    Path socket = dir.resolve("ttrpc.sock");
    try (TtrpcServer server = new TtrpcServer()
        .register("s", "slow", (payload, metadata) -> {
          try {
            Thread.sleep(300);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return payload;
        })
        .register("s", "m", (payload, metadata) -> payload).listen(socket);
        TtrpcClient client = TtrpcClient.connect(socket)) {
      // a cancelled caller: its call fails, nothing else (a slow answer: an answer already
      // there would be returned despite the interrupt)
      Thread.currentThread().interrupt();
      assertThrows(java.io.IOException.class,
          () -> client.call("s", "slow", new byte[] {1}, java.util.Map.of(), null));
      assertTrue(Thread.interrupted());
      Thread waiting = Thread.ofVirtual().start(() -> assertThrows(java.io.IOException.class,
          () -> client.call("s", "slow", new byte[] {2}, java.util.Map.of(), null)));
      Thread.sleep(100);
      waiting.interrupt();
      waiting.join();
      assertFalse(client.isBroken());
      assertArrayEquals(new byte[] {3},
          client.call("s", "m", new byte[] {3}, java.util.Map.of(), null));
    }
  }

  @Test
  void theServerRefusesEvenReusedAndOversizedStreamsAndKeepsServing(@TempDir Path dir)
      throws Exception {
    Path socket = dir.resolve("ttrpc.sock");
    try (TtrpcServer server = new TtrpcServer()
        .register("s", "m", (payload, metadata) -> payload).listen(socket);
        SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      raw.connect(UnixDomainSocketAddress.of(socket));
      OutputStream out = Channels.newOutputStream(raw);
      InputStream in = Channels.newInputStream(raw);
      out.write(new Frame(2, Frame.REQUEST, (byte) 0, request()).encode());
      assertStatus(Frame.read(in), 2, Status.Code.INVALID_ARGUMENT, "must be odd");
      out.write(HEX.parseHex(UNARY_REQUEST)); // stream 1: fine
      Frame ok = Frame.read(in);
      assertEquals(0, Response.parseFrom(ok.payload()).getStatus().getCode());
      assertArrayEquals(new byte[] {8, 1}, Response.parseFrom(ok.payload()).getPayload()
          .toByteArray());
      out.write(HEX.parseHex(UNARY_REQUEST)); // stream 1 again
      assertStatus(Frame.read(in), 1, Status.Code.INVALID_ARGUMENT, "re-used");
      byte[] huge = new byte[10 + (4 << 20) + 1];
      System.arraycopy(HEX.parseHex("00400001" + "00000005" + "0100"), 0, huge, 0, 10);
      out.write(huge);
      assertStatus(Frame.read(in), 5, Status.Code.RESOURCE_EXHAUSTED, "over the");
      out.write(new Frame(7, Frame.REQUEST, (byte) 0, request()).encode());
      assertEquals(0, Response.parseFrom(Frame.read(in).payload()).getStatus().getCode(),
          "still serving after the refusals");
    }
  }

  private static byte[] request() {
    return Request.newBuilder().setService("s").setMethod("m").build().toByteArray();
  }

  /**
   * A peer running as another user gets no answer: the connection is closed (SO_PEERCRED), even
   * though the socket's mode lets it connect. Needs root, to run the peer as nobody.
   */
  @Test
  void aPeerOfAnotherUserIsRefused(@TempDir Path dir) throws Exception {
    if (!System.getProperty("user.name").equals("root")) {
      throw new AssertionError("this test needs root (to run a client as nobody)");
    }
    Path shared = java.nio.file.Files.createTempDirectory(Path.of("/tmp"), "ttrpc-peer-");
    try (TtrpcServer server = new TtrpcServer()) {
      server.register("test.Echo", "Echo", (payload, metadata) -> payload);
      Path socket = shared.resolve("s.sock");
      server.listen(socket);
      java.nio.file.Files.setPosixFilePermissions(shared,
          java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
      java.nio.file.Files.setPosixFilePermissions(socket,
          java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
      // as root, answered
      try (TtrpcClient client = TtrpcClient.connect(socket)) {
        assertArrayEquals(new byte[] {1}, client.call("test.Echo", "Echo", new byte[] {1},
            Map.of(), Duration.ofSeconds(5)));
      }
      // as nobody: connects, sends a request, reads end of file
      Path source = java.nio.file.Files.writeString(shared.resolve("Peer.java"), """
          import java.net.*; import java.nio.*; import java.nio.channels.*;
          public class Peer { public static void main(String[] a) throws Exception {
            SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
            c.connect(UnixDomainSocketAddress.of(a[0]));
            c.write(ByteBuffer.wrap(new byte[] {0,0,0,0, 0,0,0,1, 1,0}));
            int n;
            try { n = c.read(ByteBuffer.allocate(64)); } catch (SocketException e) { n = -1; }
            System.out.println(n); } }
          """);
      java.nio.file.Files.setPosixFilePermissions(source,
          java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
      String java = ProcessHandle.current().info().command().orElse("java");
      ProcessBuilder peerCommand = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534",
          "--clear-groups", java, source.toString(), socket.toString())
          .directory(shared.toFile()).redirectErrorStream(true);
      peerCommand.environment().keySet().removeIf(name -> name.startsWith("JAVA")
          || name.startsWith("JDK") || name.startsWith("MAVEN"));
      peerCommand.environment().put("HOME", shared.toString());
      Process peer = peerCommand.start();
      String out = new String(peer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, peer.waitFor(), out);
      assertEquals("-1", out.strip(), "the server closed the connection without answering");
    } finally {
      try (var files = java.nio.file.Files.list(shared)) {
        for (Path file : files.toList()) {
          java.nio.file.Files.deleteIfExists(file);
        }
      }
      java.nio.file.Files.deleteIfExists(shared);
    }
  }

  private static void assertStatus(Frame frame, int stream, Status.Code code, String text)
      throws Exception {
    assertEquals(stream, frame.streamId());
    assertEquals(Frame.RESPONSE, frame.type());
    Response response = Response.parseFrom(frame.payload());
    assertEquals(code.value(), response.getStatus().getCode(), response.getStatus().getMessage());
    org.junit.jupiter.api.Assertions.assertTrue(response.getStatus().getMessage().contains(text),
        response.getStatus().getMessage());
  }
}
