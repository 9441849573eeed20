package dev.jctr.itest;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyGoAwayFrame;
import io.netty.handler.codec.spdy.SpdySessionHandler;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A client of the Kubernetes streaming protocols over SPDY/3.1 (what client-go's
 * remotecommand and portforward speak): an HTTP upgrade offering stream protocol versions,
 * then one SPDY stream per stdio stream, named by its {@code streamtype} header. Written from
 * the protocol's description, so that the server's side is checked against the wire format,
 * not against its own code.
 */
final class SpdyStreamClient implements AutoCloseable {

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
      NioIoHandler.newFactory());
  private final CompletableFuture<FullHttpResponse> upgraded = new CompletableFuture<>();
  private final Map<Integer, ByteArrayOutputStream> received = new ConcurrentHashMap<>();
  private final Set<Integer> finished = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final Channel channel;
  private final String protocol;
  private int nextStream = 1; // a client's streams are odd

  private SpdyStreamClient(String url, String... protocols) throws Exception {
    URI uri = URI.create(url);
    channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast("http", new HttpClientCodec());
            ch.pipeline().addLast("aggregate", new HttpObjectAggregator(65536));
            ch.pipeline().addLast("upgrade", new Upgrade());
          }
        }).connect(uri.getHost(), uri.getPort()).sync().channel();
    var request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
        uri.getRawPath(), Unpooled.EMPTY_BUFFER);
    request.headers().set("Host", uri.getHost() + ":" + uri.getPort());
    request.headers().set("Connection", "Upgrade");
    request.headers().set("Upgrade", "SPDY/3.1");
    request.headers().set("Content-Length", "0");
    for (String offered : protocols) {
      request.headers().add("X-Stream-Protocol-Version", offered);
    }
    channel.writeAndFlush(request);
    FullHttpResponse response = upgraded.get(10, TimeUnit.SECONDS);
    if (response.status().code() != 101) {
      String body = response.content().toString(StandardCharsets.UTF_8);
      close();
      throw new IllegalStateException("HTTP " + response.status().code() + ": " + body);
    }
    protocol = response.headers().get("X-Stream-Protocol-Version");
  }

  static SpdyStreamClient open(String url, String... protocols) throws Exception {
    return new SpdyStreamClient(url, protocols);
  }

  /** The protocol the server chose. */
  String protocol() {
    return protocol;
  }

  /** Opens a stream with these headers; {@code last}: the client will not write to it. */
  synchronized int openStream(Map<String, String> headers, boolean last) {
    int id = nextStream;
    nextStream += 2;
    var syn = new DefaultSpdySynStreamFrame(id, 0, (byte) 0);
    headers.forEach((name, value) -> syn.headers().set(name, value));
    syn.setLast(last);
    channel.writeAndFlush(syn).syncUninterruptibly();
    return id;
  }

  void send(int stream, String text, boolean last) {
    channel.writeAndFlush(new DefaultSpdyDataFrame(stream, Unpooled.copiedBuffer(text,
        StandardCharsets.UTF_8)).setLast(last)).syncUninterruptibly();
  }

  String received(int stream) {
    ByteArrayOutputStream bytes = received.get(stream);
    return bytes == null ? "" : bytes.toString(StandardCharsets.UTF_8);
  }

  /** Waits for the server to end {@code stream} (its FIN). */
  void awaitEnd(int stream) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!finished.contains(stream)) {
      if (System.nanoTime() > deadline || closed.isDone() && !finished.contains(stream)) {
        throw new AssertionError("stream " + stream + " did not end; received "
            + received.keySet());
      }
      Thread.sleep(20);
    }
  }

  /** Waits for the server to close the connection. */
  void awaitClose() throws Exception {
    closed.get(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  private final class Upgrade extends SimpleChannelInboundHandler<FullHttpResponse> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      if (response.status().code() == 101) {
        var pipeline = ctx.pipeline();
        pipeline.remove("aggregate");
        pipeline.replace("http", "spdy", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
        pipeline.addAfter("spdy", "session", new SpdySessionHandler(SpdyVersion.SPDY_3_1,
            false));
        pipeline.replace(this, "frames", new Frames());
      }
      upgraded.complete(response.retainedDuplicate());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closed.complete(null);
      upgraded.completeExceptionally(new IllegalStateException("closed before the upgrade"));
    }
  }

  private final class Frames extends io.netty.channel.ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof SpdyDataFrame data) {
          byte[] bytes = new byte[data.content().readableBytes()];
          data.content().readBytes(bytes);
          received.computeIfAbsent(data.streamId(), k -> new ByteArrayOutputStream())
              .writeBytes(bytes);
          if (data.isLast()) {
            finished.add(data.streamId());
          }
        } else if (msg instanceof SpdySynStreamFrame || msg instanceof SpdyGoAwayFrame) {
          // the server opens no streams; GOAWAY precedes its close
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closed.complete(null);
    }
  }
}
