package dev.jctr.itest;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A client of Kubernetes' WebSocket channel protocols (what kubectl speaks to a streaming
 * server): each binary message is one channel byte and its data; what arrives is kept per
 * channel until the server closes.
 */
final class ChannelWebSocket {

  private final WebSocket socket;
  private final Map<Integer, ByteArrayOutputStream> received = new ConcurrentHashMap<>();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

  private ChannelWebSocket(String url, String protocol) throws Exception {
    socket = HttpClient.newHttpClient().newWebSocketBuilder()
        .subprotocols(protocol).connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create(url.replaceFirst("^http", "ws")), new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data,
              boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            synchronized (partial) {
              partial.writeBytes(bytes);
              if (last) {
                byte[] message = partial.toByteArray();
                partial.reset();
                if (message.length > 0) {
                  received.computeIfAbsent(message[0] & 0xff, k -> new ByteArrayOutputStream())
                      .write(message, 1, message.length - 1);
                }
              }
            }
            webSocket.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onClose(WebSocket webSocket, int status, String reason) {
            closed.complete(null);
            return null;
          }

          @Override
          public void onError(WebSocket webSocket, Throwable error) {
            closed.completeExceptionally(error);
          }
        }).get(10, TimeUnit.SECONDS);
  }

  static ChannelWebSocket open(String url, String protocol) throws Exception {
    return new ChannelWebSocket(url, protocol);
  }

  String protocol() {
    return socket.getSubprotocol();
  }

  void send(int channel, String text) throws Exception {
    byte[] data = text.getBytes(StandardCharsets.UTF_8);
    ByteBuffer message = ByteBuffer.allocate(data.length + 1);
    message.put((byte) channel).put(data).flip();
    socket.sendBinary(message, true).get(10, TimeUnit.SECONDS);
  }

  /** The client leaves (attach: detaches). */
  void close() throws Exception {
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);
  }

  /** Waits for the server to close the session. */
  ChannelWebSocket awaitClose() throws Exception {
    closed.get(30, TimeUnit.SECONDS);
    return this;
  }

  String channel(int channel) {
    ByteArrayOutputStream bytes = received.get(channel);
    return bytes == null ? "" : bytes.toString(StandardCharsets.UTF_8);
  }

  byte[] bytes(int channel) {
    ByteArrayOutputStream bytes = received.get(channel);
    return bytes == null ? new byte[0] : bytes.toByteArray();
  }
}
