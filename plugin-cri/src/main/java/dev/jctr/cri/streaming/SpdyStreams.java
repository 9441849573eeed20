package dev.jctr.cri.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdyGoAwayFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyGoAwayFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A streaming session over SPDY/3.1, as kubectl and crictl speak it (client-go's
 * remotecommand and portforward): the client opens one stream per stdio stream, named by the
 * {@code streamtype} header (error, stdin, stdout, stderr, resize); the server starts the
 * process once every stream the request implies is there, and ends with the status on the
 * error stream (v4: a metav1.Status; older protocols: a failure's text). Port forwarding:
 * an error and a data stream per connection, with the {@code port} and {@code requestid}
 * headers; each data stream is dialed on its own.
 */
final class SpdyStreams extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = System.getLogger(SpdyStreams.class.getName());
  private static final long STREAMS_TIMEOUT_SECONDS = 30;

  private final Channel channel;
  private final StreamServer.Backend backend;
  private final StreamRequests.Pending request;
  private final String protocol;
  /** Exec and attach: channel (0 stdin .. 4 resize) by stream id, and back. */
  private final Map<Integer, Integer> channels = new ConcurrentHashMap<>();
  private final Map<Integer, Integer> streams = new ConcurrentHashMap<>();
  private final Set<Integer> expected;
  private final StreamServer.Session session;
  private boolean started;
  /** Port forwarding: each data stream's connection, and what came before it was dialed. */
  private static final class Forwarded {
    StreamedProcess connection;
    final List<byte[]> early = new ArrayList<>();
    boolean closed;
  }

  private final Map<Integer, Forwarded> dialed = new ConcurrentHashMap<>();
  private final Map<String, Integer> errorStreams = new ConcurrentHashMap<>();

  SpdyStreams(Channel channel, StreamServer.Backend backend, StreamRequests.Pending request,
      String protocol) {
    this.channel = channel;
    this.backend = backend;
    this.request = request;
    this.protocol = protocol;
    this.expected = expectedChannels(request, protocol);
    this.session = request instanceof StreamRequests.PortForward ? null
        : new StreamServer.Session(backend, request) {
          @Override
          void send(int channelId, byte[] payload) {
            Integer stream = streams.get(channelId);
            if (stream == null || !channel.isActive()) {
              return;
            }
            if (channelId == 3 && !protocol.equals("v4.channel.k8s.io")) {
              payload = legacyError(payload);
              if (payload.length == 0) {
                return;
              }
            }
            data(stream, payload, false);
          }

          @Override
          void finish() {
            end();
          }
        };
    channel.eventLoop().schedule(() -> {
      if (!started() && session != null) {
        LOG.log(Level.DEBUG, "SPDY client opened " + channels.values() + " of " + expected);
        channel.writeAndFlush(new DefaultSpdyGoAwayFrame(0)).addListener(f -> hardClose());
      }
    }, STREAMS_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** The streams the client must open before the process starts. */
  private static Set<Integer> expectedChannels(StreamRequests.Pending request, String protocol) {
    boolean tty;
    boolean stdin;
    boolean stdout;
    boolean stderr;
    if (request instanceof StreamRequests.Exec exec) {
      tty = exec.tty();
      stdin = exec.stdin();
      stdout = exec.stdout();
      stderr = exec.stderr();
    } else if (request instanceof StreamRequests.Attach attach) {
      tty = attach.tty();
      stdin = attach.stdin();
      stdout = attach.stdout();
      stderr = attach.stderr();
    } else {
      return Set.of();
    }
    Set<Integer> set = new java.util.HashSet<>();
    set.add(3);
    if (stdin) {
      set.add(0);
    }
    if (stdout) {
      set.add(1);
    }
    if (stderr && !tty) {
      set.add(2);
    }
    if (tty && (protocol.equals("v4.channel.k8s.io") || protocol.equals("v3.channel.k8s.io"))) {
      set.add(4);
    }
    return set;
  }

  private synchronized boolean started() {
    return started;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof SpdySynStreamFrame syn) {
        opened(syn);
      } else if (msg instanceof SpdyDataFrame data) {
        received(data);
      } else if (msg instanceof SpdyRstStreamFrame reset) {
        close(dialed.remove(reset.streamId()));
      } else if (msg instanceof SpdyGoAwayFrame) {
        closeAll();
      }
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "SPDY session input: " + e.getMessage());
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void opened(SpdySynStreamFrame syn) {
    int id = syn.streamId();
    String type = syn.headers().getAsString("streamtype");
    // a header block with no headers is sent empty by netty, and peers (netty's, Go's) refuse
    // an empty block: the reply names the stream's type
    var reply = new DefaultSpdySynReplyFrame(id);
    reply.headers().set("streamtype", type == null ? "" : type);
    channel.writeAndFlush(reply);
    if (request instanceof StreamRequests.PortForward forward) {
      forwardStream(forward, id, type, syn.headers().getAsString("port"),
          syn.headers().getAsString("requestid"));
      return;
    }
    Integer channelId = type == null ? null : switch (type) {
      case "stdin" -> 0;
      case "stdout" -> 1;
      case "stderr" -> 2;
      case "error" -> 3;
      case "resize" -> 4;
      default -> null;
    };
    if (channelId == null) {
      LOG.log(Level.DEBUG, "SPDY stream of unknown type " + type);
      return;
    }
    channels.put(id, channelId);
    streams.put(channelId, id);
    if (syn.isLast() && channelId == 0) {
      try {
        session.input(255, new byte[0]);
      } catch (IOException e) {
        // nothing to close yet
      }
    }
    boolean start;
    synchronized (this) {
      start = !started && streams.keySet().containsAll(expected);
      started |= start;
    }
    if (start) {
      Thread.ofPlatform().daemon().name("cri-stream").start(session::run);
    }
  }

  private void received(SpdyDataFrame frame) throws IOException {
    int id = frame.streamId();
    ByteBuf content = frame.content();
    byte[] payload = new byte[content.readableBytes()];
    content.readBytes(payload);
    if (request instanceof StreamRequests.PortForward) {
      Forwarded forwarded = dialed.get(id);
      if (forwarded == null || payload.length == 0) {
        return;
      }
      synchronized (forwarded) {
        if (forwarded.connection == null) {
          forwarded.early.add(payload);
          return;
        }
      }
      if (forwarded.connection.stdin() != null) {
        forwarded.connection.stdin().write(payload);
        forwarded.connection.stdin().flush();
      }
      return;
    }
    Integer channelId = channels.get(id);
    if (channelId == null) {
      return;
    }
    if (payload.length > 0) {
      session.input(channelId, payload);
    }
    if (frame.isLast() && channelId == 0) {
      session.input(255, new byte[0]);
    }
  }

  private void forwardStream(StreamRequests.PortForward forward, int id, String type,
      String portText, String requestId) {
    String key = requestId == null ? "" : requestId;
    if ("error".equals(type)) {
      errorStreams.put(key, id);
      return;
    }
    if (!"data".equals(type)) {
      return;
    }
    Integer errorStream = errorStreams.get(key);
    int port;
    try {
      port = Integer.parseInt(portText == null ? "" : portText.strip());
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port <= 0 || port > 65535
        || !forward.ports().isEmpty() && !forward.ports().contains(port)) {
      if (errorStream != null) {
        data(errorStream, ("port " + portText + " was not asked for in PortForward")
            .getBytes(StandardCharsets.UTF_8), true);
      }
      data(id, new byte[0], true);
      return;
    }
    int target = port;
    Forwarded forwarded = new Forwarded();
    dialed.put(id, forwarded);
    Thread.ofPlatform().daemon().name("cri-forward").start(() -> {
      StreamedProcess connection;
      try {
        connection = backend.dial(forward, target);
        List<byte[]> early;
        synchronized (forwarded) {
          if (forwarded.closed) {
            connection.close();
            return;
          }
          forwarded.connection = connection;
          early = new ArrayList<>(forwarded.early);
          forwarded.early.clear();
        }
        for (byte[] payload : early) {
          connection.stdin().write(payload);
          connection.stdin().flush();
        }
      } catch (IOException | RuntimeException e) {
        dialed.remove(id);
        if (errorStream != null) {
          data(errorStream, ("dialing port " + target + ": " + e.getMessage())
              .getBytes(StandardCharsets.UTF_8), true);
        }
        data(id, new byte[0], true);
        return;
      }
      byte[] buffer = new byte[32 * 1024];
      try (InputStream in = connection.stdout()) {
        int n;
        while ((n = in.read(buffer)) > 0) {
          byte[] copy = new byte[n];
          System.arraycopy(buffer, 0, copy, 0, n);
          data(id, copy, false);
        }
      } catch (IOException e) {
        // the pod side closed
      } finally {
        close(dialed.remove(id));
        data(id, new byte[0], true);
        if (errorStream != null) {
          data(errorStream, new byte[0], true);
        }
      }
    });
  }

  private static void close(Forwarded forwarded) {
    if (forwarded == null) {
      return;
    }
    StreamedProcess connection;
    synchronized (forwarded) {
      forwarded.closed = true;
      connection = forwarded.connection;
    }
    if (connection != null) {
      connection.close();
    }
  }

  /** A DATA frame on {@code stream}; waits while the client is slow. */
  private void data(int stream, byte[] payload, boolean last) {
    if (!channel.isActive()) {
      return;
    }
    var written = channel.writeAndFlush(new DefaultSpdyDataFrame(stream,
        Unpooled.wrappedBuffer(payload)).setLast(last));
    if (!channel.eventLoop().inEventLoop()) { // the event loop itself must never wait
      written.awaitUninterruptibly(30, TimeUnit.SECONDS);
    }
  }

  /** Older protocols carry a failure's message as text, and nothing on success. */
  private static byte[] legacyError(byte[] status) {
    try {
      var json = com.google.gson.JsonParser.parseString(new String(status,
          StandardCharsets.UTF_8)).getAsJsonObject();
      if ("Success".equals(json.get("status").getAsString())) {
        return new byte[0];
      }
      return json.get("message").getAsString().getBytes(StandardCharsets.UTF_8);
    } catch (RuntimeException e) {
      return status;
    }
  }

  /** Ends every stream the server writes, then the connection. */
  private void end() {
    if (!channel.isActive()) {
      return;
    }
    for (int stream : new ArrayList<>(channels.keySet())) {
      data(stream, new byte[0], true);
    }
    channel.writeAndFlush(new DefaultSpdyGoAwayFrame(0)).addListener(f -> hardClose());
  }

  /**
   * Closes the connection itself: a close passing the session handler would wait for the
   * client to end its streams too, which a client waiting for the close never does.
   */
  private void hardClose() {
    var codec = channel.pipeline().context(SpdyFrameCodec.class);
    if (codec != null) {
      codec.close();
    } else {
      channel.close();
    }
  }

  private void closeAll() {
    if (session != null) {
      session.closeProcesses();
    }
    dialed.values().forEach(SpdyStreams::close);
    dialed.clear();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closeAll();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(Level.DEBUG, "SPDY session: " + cause);
    closeAll();
    ctx.close();
  }
}
