package dev.jctr.api.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.jctr.api.errors.ErrorStatus;
import dev.jctr.api.proto.ttrpc.KeyValue;
import dev.jctr.api.proto.ttrpc.Request;
import dev.jctr.api.proto.ttrpc.Response;
import io.grpc.Status;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A ttrpc server on a unix socket: unary calls, each handled on a virtual thread of its own
 * and answered on the same stream id (answers may go out of order). Streams must be odd and
 * increasing; oversized frames, unknown services and methods get the statuses containerd's
 * server sends.
 */
public final class TtrpcServer implements AutoCloseable {

  private static final Logger LOG = System.getLogger(TtrpcServer.class.getName());

  /** One method: the request payload and metadata in, the response payload out. */
  public interface Method {
    byte[] call(byte[] payload, Map<String, List<String>> metadata) throws Exception;
  }

  private final Map<String, Map<String, Method>> services = new ConcurrentHashMap<>();
  private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
  private ServerSocketChannel listener;
  private volatile boolean closed;

  /** Registers {@code method} of {@code service} (full proto name, e.g. containerd.task.v2.Task). */
  public TtrpcServer register(String service, String method, Method handler) {
    services.computeIfAbsent(service, s -> new ConcurrentHashMap<>()).put(method, handler);
    return this;
  }

  /** Stops serving {@code service}: its calls get Unimplemented from now on. */
  public void unregister(String service) {
    services.remove(service);
  }

  /** Listens on {@code socket} (replacing a stale file) and serves until closed. */
  public TtrpcServer listen(Path socket) throws IOException {
    Files.deleteIfExists(socket);
    listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    listener.bind(UnixDomainSocketAddress.of(socket));
    Thread.ofVirtual().name("ttrpc-accept").start(() -> {
      while (!closed) {
        try {
          serve(listener.accept());
        } catch (IOException e) {
          if (!closed) {
            LOG.log(Level.WARNING, "ttrpc accept: " + e.getMessage());
          }
          return;
        }
      }
    });
    return this;
  }

  /**
   * Serves one connection (accepted here or handed over, e.g. an inherited socket). Only a
   * peer running as this process's user is served (SO_PEERCRED), as containerd's ttrpc
   * servers require: the socket's file mode alone is not trusted.
   */
  public void serve(SocketChannel connection) {
    if (!sameUser(connection)) {
      try {
        connection.close();
      } catch (IOException e) {
        // refused either way
      }
      return;
    }
    connections.add(connection);
    Thread.ofVirtual().name("ttrpc-connection").start(() -> {
      try (connection) {
        new Connection(connection).run();
      } catch (IOException e) {
        LOG.log(Level.DEBUG, "ttrpc connection ended: " + e.getMessage());
      } finally {
        connections.remove(connection);
      }
    });
  }

  private static boolean sameUser(SocketChannel connection) {
    try {
      jdk.net.UnixDomainPrincipal peer = connection.getOption(
          jdk.net.ExtendedSocketOptions.SO_PEERCRED);
      String self = System.getProperty("user.name");
      if (!peer.user().getName().equals(self)) {
        LOG.log(Level.WARNING, "ttrpc: refused a connection from user " + peer.user().getName()
            + " (only " + self + " is served)");
        return false;
      }
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      LOG.log(Level.WARNING, "ttrpc: peer credentials unavailable: " + e.getMessage());
      return false;
    }
  }

  private final class Connection {
    private final InputStream in;
    private final OutputStream out;
    private int lastStream;

    Connection(SocketChannel channel) {
      // small buffers: a shim holds a connection per client, a frame larger than the buffer
      // is read and written straight through
      this.in = new BufferedInputStream(Channels.newInputStream(channel), 8192);
      this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 8192);
    }

    void run() throws IOException {
      while (true) {
        Frame frame;
        try {
          frame = Frame.read(in);
        } catch (Frame.TooLargeException e) {
          reply(e.streamId(), Status.Code.RESOURCE_EXHAUSTED, e.getMessage(), null);
          continue;
        }
        if (frame == null) {
          return;
        }
        if (frame.type() != Frame.REQUEST) {
          continue; // data frames of streams this server does not offer
        }
        if ((frame.streamId() & 1) == 0) {
          reply(frame.streamId(), Status.Code.INVALID_ARGUMENT,
              "StreamID must be odd for client initiated streams", null);
          continue;
        }
        if (Integer.compareUnsigned(frame.streamId(), lastStream) <= 0) {
          reply(frame.streamId(), Status.Code.INVALID_ARGUMENT,
              "StreamID cannot be re-used and must increment", null);
          continue;
        }
        lastStream = frame.streamId();
        Thread.ofVirtual().start(() -> handle(frame));
      }
    }

    private void handle(Frame frame) {
      Request request;
      try {
        request = Request.parseFrom(frame.payload());
      } catch (InvalidProtocolBufferException e) {
        reply(frame.streamId(), Status.Code.INVALID_ARGUMENT, "undecodable request: "
            + e.getMessage(), null);
        return;
      }
      Map<String, Method> methods = services.get(request.getService());
      if (methods == null) {
        reply(frame.streamId(), Status.Code.UNIMPLEMENTED, "service " + request.getService(),
            null);
        return;
      }
      Method method = methods.get(request.getMethod());
      if (method == null) {
        reply(frame.streamId(), Status.Code.UNIMPLEMENTED, "method " + request.getMethod(),
            null);
        return;
      }
      Map<String, List<String>> metadata = new java.util.HashMap<>();
      for (KeyValue pair : request.getMetadataList()) {
        metadata.computeIfAbsent(pair.getKey(), k -> new ArrayList<>()).add(pair.getValue());
      }
      try {
        byte[] result = method.call(request.getPayload().toByteArray(),
            Collections.unmodifiableMap(metadata));
        reply(frame.streamId(), Status.Code.OK, "", result);
      } catch (Exception e) {
        Status status = ErrorStatus.of(e);
        reply(frame.streamId(), status.getCode(), status.getDescription() == null
            ? String.valueOf(e.getMessage()) : status.getDescription(), null);
      }
    }

    private void reply(int stream, Status.Code code, String message, byte[] payload) {
      Response.Builder response = Response.newBuilder().setStatus(
          dev.jctr.api.proto.ttrpc.Status.newBuilder().setCode(code.value())
              .setMessage(message));
      if (payload != null) {
        response.setPayload(ByteString.copyFrom(payload));
      }
      byte[] bytes = new Frame(stream, Frame.RESPONSE, (byte) 0,
          response.build().toByteArray()).encode();
      synchronized (out) {
        try {
          out.write(bytes);
          out.flush();
        } catch (IOException e) {
          LOG.log(Level.DEBUG, "ttrpc reply on stream " + stream + " lost: " + e.getMessage());
        }
      }
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    if (listener != null) {
      listener.close();
    }
    for (SocketChannel connection : connections) {
      connection.close();
    }
  }
}
