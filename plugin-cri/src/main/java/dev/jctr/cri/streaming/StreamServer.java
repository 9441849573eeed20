package dev.jctr.cri.streaming;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdySessionHandler;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The CRI streaming server: HTTP on a loopback address, where the URLs Exec, Attach and
 * PortForward return are served as WebSocket sessions in Kubernetes' channel protocols
 * ({@code v5.channel.k8s.io}, {@code v4.channel.k8s.io}, {@code channel.k8s.io} for exec;
 * {@code v4.channel.k8s.io}, {@code portforward.k8s.io} for port forwarding; attach as exec). Every binary
 * message starts with its channel: exec 0 stdin, 1 stdout, 2 stderr, 3 error (a JSON
 * {@code Status} at the end), 4 resize ({@code {"Width":..,"Height":..}}), 255 (v5) closes
 * stdin; port forwarding has a data and an error channel per port, whose first message is the
 * port, 2 bytes little-endian. SPDY/3.1 upgrades (kubectl's and crictl's) are served by
 * {@link SpdyStreams}.
 */
public final class StreamServer implements AutoCloseable {

  private static final Logger LOG = System.getLogger(StreamServer.class.getName());
  private static final String EXEC_PROTOCOLS =
      "v5.channel.k8s.io,v4.channel.k8s.io,channel.k8s.io";
  private static final String FORWARD_PROTOCOLS = "v4.channel.k8s.io,portforward.k8s.io";
  private static final List<String> SPDY_EXEC_PROTOCOLS = List.of("v4.channel.k8s.io",
      "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io");
  private static final List<String> SPDY_FORWARD_PROTOCOLS = List.of("portforward.k8s.io");
  static final String SUCCESS = "{\"metadata\":{},\"status\":\"Success\"}";

  /** Starts the processes sessions carry. */
  public interface Backend {
    StreamedProcess exec(StreamRequests.Exec request) throws IOException;

    /** The container's own stdio; await() ends with the container or the session. */
    StreamedProcess attach(StreamRequests.Attach request) throws IOException;

    StreamedProcess dial(StreamRequests.PortForward request, int port) throws IOException;
  }

  private final StreamRequests requests;
  private final Backend backend;
  private final EventLoopGroup group;
  private final Channel server;
  private final String base;

  public StreamServer(String address, int port, StreamRequests requests, Backend backend)
      throws InterruptedException {
    this.requests = requests;
    this.backend = backend;
    this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    this.server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel channel) {
            channel.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                new UpgradeHandler());
          }
        }).bind(address, port).sync().channel();
    InetSocketAddress bound = (InetSocketAddress) server.localAddress();
    String host = bound.getAddress().getHostAddress();
    this.base = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":"
        + bound.getPort();
  }

  /** The URL a client connects to for {@code token}: {@code <base>/exec/<token>} etc. */
  public String url(String kind, String token) {
    return base + "/" + kind + "/" + token;
  }

  @Override
  public void close() {
    server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  private final class UpgradeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      String[] path = request.uri().split("\\?")[0].split("/");
      StreamRequests.Pending pending = path.length == 3 ? requests.take(path[2]) : null;
      if (pending == null || !(path[1].equals("exec") && pending instanceof StreamRequests.Exec
          || path[1].equals("attach") && pending instanceof StreamRequests.Attach
          || path[1].equals("portforward")
              && pending instanceof StreamRequests.PortForward)) {
        respond(ctx, HttpResponseStatus.NOT_FOUND, "unknown or expired streaming token;"
            + " call Exec, Attach or PortForward again for a new URL\n");
        return;
      }
      String upgrade = request.headers().get(HttpHeaderNames.UPGRADE, "");
      if (upgrade.equalsIgnoreCase("SPDY/3.1")) {
        upgradeToSpdy(ctx, request, pending);
        return;
      }
      if (!upgrade.equalsIgnoreCase("websocket")) {
        respond(ctx, HttpResponseStatus.BAD_REQUEST, "jctr's streaming server speaks WebSocket"
            + " (v5.channel.k8s.io, v4.channel.k8s.io, portforward.k8s.io) and SPDY/3.1; "
            + upgrade + " is not supported\n");
        return;
      }
      String protocols = pending instanceof StreamRequests.PortForward ? FORWARD_PROTOCOLS
          : EXEC_PROTOCOLS;
      WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(
          base + request.uri(), protocols, false, 1 << 20).newHandshaker(request);
      if (handshaker == null) {
        WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
        return;
      }
      WebSocketSession session = new WebSocketSession(ctx.channel(), pending);
      handshaker.handshake(ctx.channel(), request).addListener(f -> {
        if (f.isSuccess()) {
          ctx.pipeline().replace(this, "session", session);
          Thread.ofPlatform().daemon().name("cri-stream").start(session::run);
        } else {
          ctx.close();
        }
      });
    }

    /**
     * SPDY/3.1: the first protocol the client offers (X-Stream-Protocol-Version, in its order)
     * that this server speaks; 101, then SPDY frames on the same connection.
     */
    private void upgradeToSpdy(ChannelHandlerContext ctx, FullHttpRequest request,
        StreamRequests.Pending pending) {
      List<String> supported = pending instanceof StreamRequests.PortForward
          ? SPDY_FORWARD_PROTOCOLS : SPDY_EXEC_PROTOCOLS;
      List<String> offered = new ArrayList<>();
      for (String value : request.headers().getAll("X-Stream-Protocol-Version")) {
        for (String one : value.split(",")) {
          if (!one.isBlank()) {
            offered.add(one.strip());
          }
        }
      }
      String chosen = offered.isEmpty() ? supported.get(supported.size() - 1)
          : offered.stream().filter(supported::contains).findFirst().orElse(null);
      if (chosen == null) {
        respond(ctx, HttpResponseStatus.FORBIDDEN, "none of the offered stream protocols "
            + offered + " is spoken here; SPDY/3.1 carries " + supported + "\n");
        return;
      }
      var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
          HttpResponseStatus.SWITCHING_PROTOCOLS);
      response.headers().set(HttpHeaderNames.CONNECTION, "Upgrade");
      response.headers().set(HttpHeaderNames.UPGRADE, "SPDY/3.1");
      response.headers().set("X-Stream-Protocol-Version", chosen);
      var pipeline = ctx.pipeline();
      // the 101 goes out through the HTTP codec; every byte after it is SPDY
      ctx.writeAndFlush(response);
      pipeline.remove(HttpObjectAggregator.class);
      pipeline.replace(HttpServerCodec.class, "spdy-codec",
          new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
      pipeline.addAfter("spdy-codec", "spdy-session",
          new SpdySessionHandler(SpdyVersion.SPDY_3_1, true));
      pipeline.replace(this, "spdy-streams",
          new SpdyStreams(ctx.channel(), backend, pending, chosen));
    }

    private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String text) {
      var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
          Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
      response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /**
   * One connected client: its process(es) and the channel messages between them, whatever
   * carries them (WebSocket messages with a channel byte, or SPDY streams by stream type).
   * Channels: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize, 255 stdin closed.
   */
  abstract static class Session {
    final Backend backend;
    final StreamRequests.Pending request;
    private final List<StreamedProcess> processes = new ArrayList<>();
    /** Input that arrived before the process was started, replayed once it is. */
    private final List<byte[]> early = new ArrayList<>();
    private boolean started;

    Session(Backend backend, StreamRequests.Pending request) {
      this.backend = backend;
      this.request = request;
    }

    /** Sends {@code payload} on {@code channelId}; waits while the client is slow. */
    abstract void send(int channelId, byte[] payload);

    /** The session is over: the transport ends its streams and closes. */
    abstract void finish();

    void run() {
      try {
        if (request instanceof StreamRequests.Exec exec) {
          runProcess(backend.exec(exec), "error executing command " + exec.cmd());
        } else if (request instanceof StreamRequests.Attach attach) {
          runProcess(backend.attach(attach), "container " + attach.containerId() + " exited");
        } else {
          runForward((StreamRequests.PortForward) request);
        }
      } catch (IOException | InterruptedException | RuntimeException e) {
        LOG.log(Level.DEBUG, "streaming session ended: " + e.getMessage());
        send(3, status(e.getMessage() == null ? e.toString() : e.getMessage(), -1));
      } finally {
        closeProcesses();
        finish();
      }
    }

    void closeProcesses() {
      synchronized (processes) {
        processes.forEach(StreamedProcess::close);
      }
    }

    private void runProcess(StreamedProcess process, String what)
        throws IOException, InterruptedException {
      synchronized (processes) {
        processes.add(process);
      }
      begin();
      List<Thread> pumps = new ArrayList<>();
      pumps.add(pump(process.stdout(), 1));
      if (process.stderr() != null) {
        pumps.add(pump(process.stderr(), 2));
      }
      int code = process.await();
      for (Thread pump : pumps) {
        pump.join(2000);
      }
      send(3, code == 0 ? SUCCESS : status(
          "command terminated with non-zero exit code: " + what + ", exit code " + code,
          code));
    }

    private void runForward(StreamRequests.PortForward forward)
        throws IOException, InterruptedException {
      List<Thread> pumps = new ArrayList<>();
      for (int i = 0; i < forward.ports().size(); i++) {
        int port = forward.ports().get(i);
        int data = 2 * i;
        // each channel first carries its port, little-endian
        send(data, new byte[] {(byte) port, (byte) (port >> 8)});
        send(data + 1, new byte[] {(byte) port, (byte) (port >> 8)});
        StreamedProcess dialed = backend.dial(forward, port);
        synchronized (processes) {
          processes.add(dialed);
        }
        pumps.add(pump(dialed.stdout(), data));
      }
      begin();
      for (Thread pump : pumps) {
        pump.join();
      }
    }

    private void begin() throws IOException {
      List<byte[]> replay;
      synchronized (processes) {
        started = true;
        replay = new ArrayList<>(early);
        early.clear();
      }
      for (byte[] message : replay) {
        handle(message[0] & 0xff, java.util.Arrays.copyOfRange(message, 1, message.length));
      }
    }

    private Thread pump(InputStream in, int channelId) {
      return Thread.ofPlatform().daemon().name("cri-stream-out").start(() -> {
        byte[] buffer = new byte[32 * 1024];
        try (in) {
          int n;
          while ((n = in.read(buffer)) > 0) {
            byte[] copy = new byte[n];
            System.arraycopy(buffer, 0, copy, 0, n);
            send(channelId, copy);
          }
        } catch (IOException e) {
          // the process side closed
        }
      });
    }

    private void send(int channelId, String text) {
      send(channelId, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Client input on {@code channelId}; kept until the process has started. */
    void input(int channelId, byte[] payload) throws IOException {
      synchronized (processes) {
        if (!started) {
          byte[] message = new byte[payload.length + 1];
          message[0] = (byte) channelId;
          System.arraycopy(payload, 0, message, 1, payload.length);
          early.add(message);
          return;
        }
      }
      handle(channelId, payload);
    }

    private void handle(int channelId, byte[] payload) throws IOException {
      StreamedProcess target;
      synchronized (processes) {
        if (processes.isEmpty()) {
          return;
        }
        target = request instanceof StreamRequests.PortForward
            ? processes.get(Math.min(channelId / 2, processes.size() - 1)) : processes.get(0);
      }
      if (request instanceof StreamRequests.PortForward) {
        if (channelId % 2 == 0 && target.stdin() != null) {
          write(target.stdin(), payload);
        }
        return;
      }
      switch (channelId) {
        case 0 -> write(target.stdin(), payload);
        case 4 -> resize(target, new String(payload, StandardCharsets.UTF_8));
        case 255 -> {
          if (target.stdin() != null) {
            target.stdin().close();
          }
        }
        default -> { }
      }
    }

    private void write(OutputStream out, byte[] payload) throws IOException {
      if (out != null) {
        out.write(payload);
        out.flush();
      }
    }

    /** One or more {"Width":..,"Height":..} objects, as a SPDY resize stream may carry. */
    private void resize(StreamedProcess target, String json) {
      var reader = new com.google.gson.stream.JsonReader(new java.io.StringReader(json));
      reader.setStrictness(com.google.gson.Strictness.LENIENT);
      try {
        while (reader.peek() != com.google.gson.stream.JsonToken.END_DOCUMENT) {
          var size = com.google.gson.JsonParser.parseReader(reader).getAsJsonObject();
          target.resize(size.get("Width").getAsInt(), size.get("Height").getAsInt());
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.DEBUG, "bad resize message: " + json);
      }
    }
  }

  /** A session over WebSocket: every binary message is a channel byte and its data. */
  private final class WebSocketSession extends SimpleChannelInboundHandler<WebSocketFrame> {
    private final Channel channel;
    private final Session session;

    WebSocketSession(Channel channel, StreamRequests.Pending request) {
      this.channel = channel;
      this.session = new Session(backend, request) {
        @Override
        void send(int channelId, byte[] payload) {
          if (!channel.isActive()) {
            return;
          }
          ByteBuf frame = Unpooled.buffer(payload.length + 1);
          frame.writeByte(channelId);
          frame.writeBytes(payload);
          channel.writeAndFlush(new BinaryWebSocketFrame(frame)).awaitUninterruptibly(30,
              TimeUnit.SECONDS);
        }

        @Override
        void finish() {
          channel.writeAndFlush(new CloseWebSocketFrame(1000, "done"))
              .addListener(ChannelFutureListener.CLOSE);
        }
      };
    }

    void run() {
      session.run();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame)
        throws IOException {
      if (frame instanceof PingWebSocketFrame) {
        ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
        return;
      }
      if (frame instanceof CloseWebSocketFrame) {
        session.closeProcesses();
        ctx.close();
        return;
      }
      ByteBuf content = frame.content();
      if (content.readableBytes() < 1) {
        return;
      }
      int channelId = content.readUnsignedByte();
      byte[] payload = new byte[content.readableBytes()];
      content.readBytes(payload);
      session.input(channelId, payload);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      session.closeProcesses();
    }
  }

  /** A metav1.Status of failure; an exit code makes it NonZeroExitCode with its cause. */
  static String status(String message, int exitCode) {
    com.google.gson.JsonObject status = new com.google.gson.JsonObject();
    status.add("metadata", new com.google.gson.JsonObject());
    status.addProperty("status", "Failure");
    status.addProperty("message", message);
    if (exitCode > 0) {
      status.addProperty("reason", "NonZeroExitCode");
      com.google.gson.JsonObject cause = new com.google.gson.JsonObject();
      cause.addProperty("reason", "ExitCode");
      cause.addProperty("message", Integer.toString(exitCode));
      com.google.gson.JsonArray causes = new com.google.gson.JsonArray();
      causes.add(cause);
      com.google.gson.JsonObject details = new com.google.gson.JsonObject();
      details.add("causes", causes);
      status.add("details", details);
    } else {
      status.addProperty("reason", "InternalError");
    }
    return status.toString();
  }
}
