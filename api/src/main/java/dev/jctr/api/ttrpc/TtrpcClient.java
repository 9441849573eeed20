package dev.jctr.api.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.jctr.api.proto.ttrpc.KeyValue;
import dev.jctr.api.proto.ttrpc.Request;
import dev.jctr.api.proto.ttrpc.Response;
import io.grpc.Status;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A ttrpc client on one unix socket connection: unary calls from any thread, multiplexed on odd
 * increasing stream ids; one reader hands each response to its caller. The namespace travels
 * as metadata {@code containerd-namespace-ttrpc}.
 */
public final class TtrpcClient implements AutoCloseable {

  private final SocketChannel channel;
  private final OutputStream out;
  private final Map<Integer, CompletableFuture<Response>> pending = new ConcurrentHashMap<>();
  /** Frames to send, written by one thread of the client's own (see {@link #writeLoop}). */
  private final java.util.concurrent.BlockingQueue<byte[]> outgoing =
      new java.util.concurrent.LinkedBlockingQueue<>();
  private static final byte[] CLOSE = new byte[0];
  private final Object lock = new Object();
  private int nextStream = 1;
  private volatile IOException broken;

  private TtrpcClient(SocketChannel channel) {
    this.channel = channel;
    this.out = Channels.newOutputStream(channel);
    InputStream in = new BufferedInputStream(Channels.newInputStream(channel), 8192);
    Thread.ofVirtual().name("ttrpc-client-reader").start(() -> read(in));
    Thread.ofVirtual().name("ttrpc-client-writer").start(this::writeLoop);
  }

  /**
   * Writes the queued frames. A socket channel closes when a thread writing to it is
   * interrupted; callers share a connection (a shim's tasks do) and may be interrupted (a
   * cancelled call), so no caller ever writes itself: this thread is never interrupted.
   */
  private void writeLoop() {
    try {
      while (true) {
        byte[] frame = outgoing.take();
        if (frame == CLOSE) {
          return;
        }
        out.write(frame);
      }
    } catch (IOException e) {
      fail(e);
    } catch (InterruptedException e) {
      fail(new IOException("ttrpc writer interrupted", e));
    }
  }

  public static TtrpcClient connect(Path socket) throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      channel.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException e) {
      channel.close();
      throw new IOException("ttrpc connect " + socket + ": " + e.getMessage(), e);
    }
    return new TtrpcClient(channel);
  }

  /**
   * Calls {@code service}/{@code method} with {@code payload}; returns the response payload.
   *
   * @param timeout the deadline sent to the server and waited for (null: none)
   * @throws TtrpcException when the server answers with a status other than OK
   */
  public byte[] call(String service, String method, byte[] payload,
      Map<String, String> metadata, Duration timeout) throws IOException {
    Request.Builder request = Request.newBuilder().setService(service).setMethod(method)
        .setPayload(ByteString.copyFrom(payload));
    if (timeout != null) {
      request.setTimeoutNano(timeout.toNanos());
    }
    metadata.forEach((k, v) -> request.addMetadata(KeyValue.newBuilder().setKey(k)
        .setValue(v)));
    CompletableFuture<Response> answer = new CompletableFuture<>();
    int stream;
    synchronized (lock) { // stream ids go out in the order they are given
      if (broken != null) {
        throw new IOException("ttrpc connection lost: " + broken.getMessage(), broken);
      }
      stream = nextStream;
      nextStream += 2;
      pending.put(stream, answer);
      outgoing.add(new Frame(stream, Frame.REQUEST, (byte) 0, request.build().toByteArray())
          .encode());
    }
    Response response;
    try {
      response = timeout == null ? answer.get()
          : answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      pending.remove(stream);
      throw new TtrpcException(Status.Code.DEADLINE_EXCEEDED, service + "/" + method
          + " took longer than " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for " + service + "/" + method, e);
    } catch (ExecutionException e) {
      throw new IOException("ttrpc connection lost: " + e.getCause().getMessage(),
          e.getCause());
    }
    if (response.getStatus().getCode() != 0) {
      throw new TtrpcException(Status.fromCodeValue(response.getStatus().getCode()).getCode(),
          response.getStatus().getMessage());
    }
    return response.getPayload().toByteArray();
  }

  private void read(InputStream in) {
    try {
      Frame frame;
      while ((frame = Frame.read(in)) != null) {
        if (frame.type() != Frame.RESPONSE) {
          continue;
        }
        CompletableFuture<Response> answer = pending.remove(frame.streamId());
        if (answer != null) {
          try {
            answer.complete(Response.parseFrom(frame.payload()));
          } catch (InvalidProtocolBufferException e) {
            answer.completeExceptionally(e);
          }
        }
      }
      fail(new IOException("closed by the server"));
    } catch (IOException e) {
      fail(e);
    }
  }

  private void fail(IOException cause) {
    synchronized (lock) { // no call registers between the check and the clearing
      broken = cause;
      pending.values().forEach(answer -> answer.completeExceptionally(cause));
      pending.clear();
    }
  }

  /** Whether the connection has failed or was closed: calls on it can only fail. */
  public boolean isBroken() {
    return broken != null || !channel.isOpen();
  }

  @Override
  public void close() throws IOException {
    outgoing.add(CLOSE);
    channel.close();
  }
}
