package dev.jctr.cli.transport;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.URLDecoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC client over HTTP/2 on a unix socket, written against the JDK alone so that a one-shot
 * command line starts fast: no event loop, no thread besides a deadline watchdog. Calls run one
 * at a time on the calling thread; unary and server-streaming calls are supported, which is all
 * the containerd API asks of a client. Failures surface as {@link StatusRuntimeException}, as
 * with grpc-java.
 */
public final class GrpcConnection implements AutoCloseable {

  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  // frame types and flags, RFC 9113 section 6
  private static final int DATA = 0x0;
  private static final int HEADERS = 0x1;
  private static final int RST_STREAM = 0x3;
  private static final int SETTINGS = 0x4;
  private static final int PING = 0x6;
  private static final int GOAWAY = 0x7;
  private static final int WINDOW_UPDATE = 0x8;
  private static final int CONTINUATION = 0x9;
  private static final int END_STREAM = 0x1;
  private static final int ACK = 0x1;
  private static final int END_HEADERS = 0x4;
  private static final int PADDED = 0x8;
  private static final int PRIORITY = 0x20;

  private static final int SETTINGS_HEADER_TABLE_SIZE = 0x1;
  private static final int SETTINGS_ENABLE_PUSH = 0x2;
  private static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
  private static final int SETTINGS_MAX_FRAME_SIZE = 0x5;

  /** Our receive windows: as large as HTTP/2 allows, topped up after each gigabyte. */
  private static final int RECEIVE_WINDOW = Integer.MAX_VALUE;
  private static final int OUR_MAX_FRAME_SIZE = 1 << 20;
  private static final int HEADER_TABLE_SIZE = 4096;
  private static final int MAX_MESSAGE = 64 << 20;

  private final Path socket;
  private final SocketChannel channel;
  private final InputStream in;
  private final OutputStream out;
  private final Hpack.Decoder headerDecoder = new Hpack.Decoder(HEADER_TABLE_SIZE);
  private final byte[] header = new byte[9];

  private int nextStreamId = 1;
  private int peerMaxFrameSize = 16_384;
  private int peerInitialWindow = 65_535;
  private long connectionSendWindow = 65_535;
  private long connectionReceived;
  private int lastGoodStream = Integer.MAX_VALUE;
  private Call current;

  private GrpcConnection(Path socket, SocketChannel channel) throws IOException {
    this.socket = socket;
    this.channel = channel;
    this.in = new BufferedInputStream(Channels.newInputStream(channel), 64 << 10);
    this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 32 << 10);
    out.write(PREFACE);
    byte[] settings = new byte[24];
    putSetting(settings, 0, SETTINGS_ENABLE_PUSH, 0);
    putSetting(settings, 6, SETTINGS_INITIAL_WINDOW_SIZE, RECEIVE_WINDOW);
    putSetting(settings, 12, SETTINGS_MAX_FRAME_SIZE, OUR_MAX_FRAME_SIZE);
    putSetting(settings, 18, SETTINGS_HEADER_TABLE_SIZE, HEADER_TABLE_SIZE);
    writeFrame(SETTINGS, 0, 0, settings, 0, settings.length);
    writeWindowUpdate(0, RECEIVE_WINDOW - 65_535);
    out.flush();
  }

  /**
   * Connects to the gRPC server on {@code socket}.
   *
   * @throws StatusRuntimeException UNAVAILABLE when nothing accepts on the socket
   */
  public static GrpcConnection open(Path socket) {
    SocketChannel channel = null;
    try {
      channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      channel.connect(UnixDomainSocketAddress.of(socket));
      return new GrpcConnection(socket, channel);
    } catch (IOException e) {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException ignored) {
          // already failing
        }
      }
      throw Status.UNAVAILABLE.withDescription("connect: " + reason(e)).withCause(e)
          .asRuntimeException();
    }
  }

  /** One request, one response. {@code timeoutNanos} of 0 means no deadline. */
  public <Q, R> R unary(MethodDescriptor<Q, R> method, Q request, Map<String, String> metadata,
      long timeoutNanos) {
    Iterator<R> responses = serverStreaming(method, request, metadata, timeoutNanos);
    if (!responses.hasNext()) {
      throw Status.INTERNAL.withDescription(method.getFullMethodName() + ": no response")
          .asRuntimeException();
    }
    R response = responses.next();
    if (responses.hasNext()) {
      throw Status.INTERNAL.withDescription(method.getFullMethodName()
          + ": more than one response").asRuntimeException();
    }
    return response;
  }

  /**
   * One request, responses as they arrive. The iterator reads from the socket; it throws the
   * call's status when the call ends with an error.
   */
  public <Q, R> Iterator<R> serverStreaming(MethodDescriptor<Q, R> method, Q request,
      Map<String, String> metadata, long timeoutNanos) {
    return clientStreaming(method, List.of(request).iterator(), metadata, timeoutNanos);
  }

  /**
   * Requests sent one after the other as the server's flow control allows (responses arriving
   * meanwhile are kept), then responses as they arrive. The iterator reads from the socket; it
   * throws the call's status when the call ends with an error.
   */
  public <Q, R> Iterator<R> clientStreaming(MethodDescriptor<Q, R> method, Iterator<Q> requests,
      Map<String, String> metadata, long timeoutNanos) {
    if (current != null && !current.done) {
      throw new IllegalStateException("one call at a time on a GrpcConnection");
    }
    Call call = new Call(nextStreamId, timeoutNanos);
    nextStreamId += 2;
    current = call;
    try {
      call.start(method.getFullMethodName(), metadata);
      boolean more = requests.hasNext();
      while (more && !call.done) {
        byte[] message;
        try (InputStream stream = method.streamRequest(requests.next())) {
          message = stream.readAllBytes();
        }
        more = requests.hasNext();
        call.send(message, !more);
      }
      if (!call.done) {
        call.endRequests();
      }
    } catch (IOException e) {
      throw call.failure(e);
    }
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return call.awaitMessage();
      }

      @Override
      public R next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return method.parseResponse(new ByteArrayInputStream(call.messages.remove(0)));
      }
    };
  }

  /**
   * Runs the header and frame codecs once on sample data, for the command line's ahead-of-time
   * cache training, which has no server to talk to.
   */
  public static void exerciseCodecs() {
    List<Map.Entry<String, String>> fields = List.of(Map.entry(":status", "200"),
        Map.entry("content-type", "application/grpc"), Map.entry("grpc-status", "5"),
        Map.entry("grpc-message", percentDecode("container%20%22x%22%20not%20found")));
    Hpack.Decoder decoder = new Hpack.Decoder(HEADER_TABLE_SIZE);
    decoder.decode(Hpack.encode(fields));
    // a response header block as grpc-java's server sends it: indexed, Huffman, dynamic table
    decoder.decode(new byte[] {(byte) 0x88, 0x5f, (byte) 0x8b, 0x1d, 0x75, (byte) 0xd0, 0x62,
        0x0d, 0x26, 0x3d, 0x4c, 0x4d, 0x65, 0x64});
    byte[] authority = {(byte) 0xf1, (byte) 0xe3, (byte) 0xc2, (byte) 0xe5, (byte) 0xf2, 0x3a,
        0x6b, (byte) 0xa0, (byte) 0xab, (byte) 0x90, (byte) 0xf4, (byte) 0xff};
    Hpack.huffmanDecode(authority, 0, authority.length);
    Status.fromCodeValue(5).withDescription("training").asRuntimeException();
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing left to do with it
    }
  }

  /** The state of one stream. */
  private final class Call {

    final int id;
    final long deadline;
    final List<byte[]> messages = new ArrayList<>();
    final byte[] prefix = new byte[5];
    int prefixFilled;
    byte[] message;
    int messageFilled;
    long sendWindow = peerInitialWindow;
    long received;
    boolean done;
    boolean requestsEnded;
    Status status;
    int httpStatus = -1;
    Thread watchdog;
    volatile boolean expired;

    Call(int id, long timeoutNanos) {
      this.id = id;
      this.deadline = timeoutNanos > 0 ? System.nanoTime() + timeoutNanos : 0;
    }

    void start(String fullMethod, Map<String, String> metadata) throws IOException {
      if (deadline != 0) {
        watchdog = Thread.ofPlatform().daemon().name("jctr-deadline").start(this::watch);
      }
      List<Map.Entry<String, String>> fields = new ArrayList<>(List.of(
          Map.entry(":method", "POST"), Map.entry(":scheme", "http"),
          Map.entry(":path", "/" + fullMethod), Map.entry(":authority", "localhost"),
          Map.entry("content-type", "application/grpc"), Map.entry("te", "trailers"),
          Map.entry("user-agent", "jctr")));
      if (deadline != 0) {
        long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        fields.add(Map.entry("grpc-timeout", millis <= 99_999_999 ? millis + "m"
            : Math.min(99_999_999, millis / 1000) + "S"));
      }
      metadata.forEach((k, v) -> fields.add(Map.entry(k, v)));
      byte[] block = Hpack.encode(fields);
      // a header block larger than one frame continues in CONTINUATION frames
      int first = Math.min(block.length, peerMaxFrameSize);
      writeFrame(HEADERS, first == block.length ? END_HEADERS : 0, id, block, 0, first);
      for (int at = first; at < block.length; ) {
        int n = Math.min(block.length - at, peerMaxFrameSize);
        writeFrame(CONTINUATION, at + n == block.length ? END_HEADERS : 0, id, block, at, n);
        at += n;
      }
    }

    /** Sends one length-prefixed message; {@code last} ends the request stream with it. */
    void send(byte[] message, boolean last) throws IOException {
      byte[] framed = new byte[5 + message.length];
      framed[1] = (byte) (message.length >>> 24);
      framed[2] = (byte) (message.length >>> 16);
      framed[3] = (byte) (message.length >>> 8);
      framed[4] = (byte) message.length;
      System.arraycopy(message, 0, framed, 5, message.length);
      int at = 0;
      do {
        while (Math.min(sendWindow, connectionSendWindow) <= 0 && !done) {
          out.flush();
          readFrame(); // wait for WINDOW_UPDATE
        }
        if (done) {
          return; // the server answered before taking the whole request
        }
        int n = (int) Math.min(Math.min(framed.length - at, peerMaxFrameSize),
            Math.min(sendWindow, connectionSendWindow));
        writeFrame(DATA, last && at + n == framed.length ? END_STREAM : 0, id, framed, at, n);
        sendWindow -= n;
        connectionSendWindow -= n;
        at += n;
      } while (at < framed.length);
      if (last) {
        requestsEnded = true;
      }
      out.flush();
    }

    /** Ends the request stream when no message did (no requests at all). */
    void endRequests() throws IOException {
      if (!requestsEnded) {
        writeFrame(DATA, END_STREAM, id, new byte[0], 0, 0);
        requestsEnded = true;
        out.flush();
      }
    }

    private void watch() {
      try {
        Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        expired = true;
        close(); // unblocks the reading thread
      } catch (InterruptedException e) {
        // the call finished in time
      }
    }

    /** Reads until a message is available (true) or the call has ended (false or thrown). */
    boolean awaitMessage() {
      try {
        while (messages.isEmpty() && !done) {
          readFrame();
        }
      } catch (IOException e) {
        throw failure(e);
      }
      if (!messages.isEmpty()) {
        return true;
      }
      finish();
      if (status.isOk()) {
        return false;
      }
      throw status.asRuntimeException();
    }

    private void finish() {
      if (watchdog != null) {
        watchdog.interrupt();
      }
      if ((status == null || status.isOk()) && (message != null || prefixFilled > 0)) {
        status = Status.INTERNAL.withDescription("stream ended inside a message");
      }
      if (status == null) {
        status = httpStatus != 200 && httpStatus != -1
            ? Status.INTERNAL.withDescription("HTTP status " + httpStatus + " without grpc-status")
            : Status.INTERNAL.withDescription("stream ended without grpc-status");
      }
    }

    StatusRuntimeException failure(IOException e) {
      done = true;
      if (watchdog != null) {
        watchdog.interrupt();
      }
      if (expired) {
        return Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded after "
            + "waiting for " + socket).asRuntimeException();
      }
      return Status.UNAVAILABLE.withDescription("connection to " + socket + " lost: "
          + reason(e)).withCause(e).asRuntimeException();
    }

    /**
     * Splits DATA into length-prefixed messages. Each byte is copied once, into the message it
     * belongs to, so that a response of many megabytes costs no more than its size.
     */
    void onData(byte[] payload, int from, int length, boolean endStream) {
      received += length;
      int at = from;
      int to = from + length;
      while (at < to && !done) {
        if (message == null) {
          int n = Math.min(5 - prefixFilled, to - at);
          System.arraycopy(payload, at, prefix, prefixFilled, n);
          prefixFilled += n;
          at += n;
          if (prefixFilled < 5) {
            break;
          }
          prefixFilled = 0;
          if (prefix[0] != 0) {
            fail(Status.INTERNAL.withDescription("compressed message; none was asked for"));
            return;
          }
          int size = readInt(prefix, 1);
          if (size < 0 || size > MAX_MESSAGE) {
            fail(Status.RESOURCE_EXHAUSTED.withDescription("response of "
                + Integer.toUnsignedString(size) + " bytes is larger than " + MAX_MESSAGE));
            return;
          }
          message = new byte[size];
          messageFilled = 0;
        }
        int n = Math.min(message.length - messageFilled, to - at);
        System.arraycopy(payload, at, message, messageFilled, n);
        messageFilled += n;
        at += n;
        if (messageFilled == message.length) {
          messages.add(message);
          message = null;
        }
      }
      if (endStream) {
        done = true;
      }
    }

    void onHeaders(List<Map.Entry<String, String>> fields, boolean endStream) {
      String grpcStatus = null;
      String grpcMessage = "";
      for (Map.Entry<String, String> field : fields) {
        switch (field.getKey()) {
          case ":status" -> httpStatus = parseInt(field.getValue(), -1);
          case "grpc-status" -> grpcStatus = field.getValue();
          case "grpc-message" -> grpcMessage = percentDecode(field.getValue());
          default -> { }
        }
      }
      if (grpcStatus != null) {
        Status s = Status.fromCodeValue(parseInt(grpcStatus, Status.Code.UNKNOWN.value()));
        status = grpcMessage.isEmpty() ? s : s.withDescription(grpcMessage);
      }
      if (endStream) {
        done = true;
      }
    }

    void fail(Status failure) {
      status = failure;
      done = true;
    }
  }

  /** Reads and handles one frame. */
  private void readFrame() throws IOException {
    readFully(header, 9);
    int length = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
    int type = header[3] & 0xff;
    int flags = header[4] & 0xff;
    int stream = ((header[5] & 0x7f) << 24) | ((header[6] & 0xff) << 16)
        | ((header[7] & 0xff) << 8) | (header[8] & 0xff);
    if (length > OUR_MAX_FRAME_SIZE) {
      throw new IOException("frame of " + length + " bytes exceeds " + OUR_MAX_FRAME_SIZE);
    }
    byte[] payload = new byte[length];
    readFully(payload, length);
    Call call = current != null && current.id == stream && !current.done ? current : null;
    switch (type) {
      case DATA -> {
        int[] range = unpad(flags, payload, 0);
        connectionReceived += length;
        if (call != null) {
          call.onData(payload, range[0], range[1], (flags & END_STREAM) != 0);
          if (call.received > RECEIVE_WINDOW / 2) {
            writeWindowUpdate(stream, (int) call.received);
            call.received = 0;
          }
        }
        if (connectionReceived > RECEIVE_WINDOW / 2) {
          writeWindowUpdate(0, (int) connectionReceived);
          connectionReceived = 0;
          out.flush();
        }
      }
      case HEADERS -> {
        int[] range = unpad(flags, payload, (flags & PRIORITY) != 0 ? 5 : 0);
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        block.write(payload, range[0], range[1]);
        boolean endStream = (flags & END_STREAM) != 0;
        while ((flags & END_HEADERS) == 0) {
          readFully(header, 9);
          int more = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
          if ((header[3] & 0xff) != CONTINUATION || more > OUR_MAX_FRAME_SIZE) {
            throw new IOException("header block interrupted by frame type " + header[3]);
          }
          flags = header[4] & 0xff;
          byte[] rest = new byte[more];
          readFully(rest, more);
          block.write(rest, 0, more);
        }
        // decoded even for other streams: the dynamic table must stay in step
        List<Map.Entry<String, String>> fields = decodeHeaders(block.toByteArray());
        if (call != null) {
          call.onHeaders(fields, endStream);
        }
      }
      case RST_STREAM -> {
        if (call != null) {
          int code = length >= 4 ? readInt(payload, 0) : 0;
          call.fail(code == 0x8 ? Status.CANCELLED.withDescription("stream cancelled by jctrd")
              : code == 0x7 ? Status.UNAVAILABLE.withDescription("stream refused; retry")
              : Status.INTERNAL.withDescription("stream reset with HTTP/2 error " + code));
        }
      }
      case SETTINGS -> {
        if ((flags & ACK) == 0) {
          applySettings(payload);
          writeFrame(SETTINGS, ACK, 0, payload, 0, 0);
          out.flush();
        }
      }
      case PING -> {
        if ((flags & ACK) == 0) {
          writeFrame(PING, ACK, 0, payload, 0, length);
          out.flush();
        }
      }
      case GOAWAY -> {
        lastGoodStream = length >= 4 ? readInt(payload, 0) & 0x7fffffff : 0;
        if (current != null && !current.done && current.id > lastGoodStream) {
          current.fail(Status.UNAVAILABLE.withDescription("jctrd is shutting down"));
        }
      }
      case WINDOW_UPDATE -> {
        int increment = length >= 4 ? readInt(payload, 0) & 0x7fffffff : 0;
        if (stream == 0) {
          connectionSendWindow += increment;
        } else if (call != null) {
          call.sendWindow += increment;
        }
      }
      default -> { } // PRIORITY, PUSH_PROMISE (disabled), unknown: ignored as RFC 9113 says
    }
  }

  private List<Map.Entry<String, String>> decodeHeaders(byte[] block) throws IOException {
    try {
      return headerDecoder.decode(block);
    } catch (Hpack.HpackException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  private void applySettings(byte[] payload) {
    for (int at = 0; at + 6 <= payload.length; at += 6) {
      int id = ((payload[at] & 0xff) << 8) | (payload[at + 1] & 0xff);
      int value = readInt(payload, at + 2);
      if (id == SETTINGS_INITIAL_WINDOW_SIZE) {
        if (current != null) {
          current.sendWindow += value - peerInitialWindow;
        }
        peerInitialWindow = value;
      } else if (id == SETTINGS_MAX_FRAME_SIZE) {
        peerMaxFrameSize = value;
      }
    }
  }

  /** The [offset, length] of a frame's content once padding (and priority) are removed. */
  private static int[] unpad(int flags, byte[] payload, int skip) throws IOException {
    int from = 0;
    int padding = 0;
    if ((flags & PADDED) != 0) {
      if (payload.length < 1) {
        throw new IOException("padded frame without a pad length");
      }
      padding = payload[0] & 0xff;
      from = 1;
    }
    from += skip;
    int length = payload.length - from - padding;
    if (length < 0) {
      throw new IOException("padding longer than the frame");
    }
    return new int[] {from, length};
  }

  private void readFully(byte[] buffer, int length) throws IOException {
    int at = 0;
    while (at < length) {
      int n = in.read(buffer, at, length - at);
      if (n < 0) {
        throw new EOFException("jctrd closed the connection");
      }
      at += n;
    }
  }

  private void writeFrame(int type, int flags, int stream, byte[] payload, int from, int length)
      throws IOException {
    out.write(length >>> 16);
    out.write(length >>> 8);
    out.write(length);
    out.write(type);
    out.write(flags);
    out.write(stream >>> 24);
    out.write(stream >>> 16);
    out.write(stream >>> 8);
    out.write(stream);
    out.write(payload, from, length);
  }

  private void writeWindowUpdate(int stream, int increment) throws IOException {
    byte[] payload = new byte[4];
    putInt(payload, 0, increment);
    writeFrame(WINDOW_UPDATE, 0, stream, payload, 0, 4);
  }

  private static void putSetting(byte[] settings, int at, int id, int value) {
    settings[at] = (byte) (id >>> 8);
    settings[at + 1] = (byte) id;
    putInt(settings, at + 2, value);
  }

  private static void putInt(byte[] bytes, int at, int value) {
    bytes[at] = (byte) (value >>> 24);
    bytes[at + 1] = (byte) (value >>> 16);
    bytes[at + 2] = (byte) (value >>> 8);
    bytes[at + 3] = (byte) value;
  }

  private static int readInt(byte[] bytes, int at) {
    return ((bytes[at] & 0xff) << 24) | ((bytes[at + 1] & 0xff) << 16)
        | ((bytes[at + 2] & 0xff) << 8) | (bytes[at + 3] & 0xff);
  }

  private static int parseInt(String value, int otherwise) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }

  /** grpc-message is percent-encoded UTF-8 (and '+' is a plus, not a space). */
  static String percentDecode(String value) {
    if (value.indexOf('%') < 0) {
      return value;
    }
    try {
      return URLDecoder.decode(value.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return value;
    }
  }

  private static String reason(IOException e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
