package dev.jctr.tasks.shim;

import com.google.protobuf.Empty;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.jctr.api.errors.ErrorStatus;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.UnavailableException;
import dev.jctr.api.ttrpc.TtrpcClient;
import dev.jctr.api.ttrpc.TtrpcException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The task service of one shim ({@code containerd.task.v2.Task}) over ttrpc, in one namespace.
 * The shim's statuses come back as the SPI's exceptions, so that a NotFound from the shim is a
 * NotFound to the daemon's client.
 */
public final class ShimClient implements AutoCloseable {

  public static final String SERVICE = "containerd.task.v2.Task";
  /** Calls that answer at once; Wait has no deadline. */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

  private final TtrpcClient client;
  private final Map<String, String> metadata;
  private final Path address;
  private final Runnable onClose;
  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();

  ShimClient(TtrpcClient client, String namespace, Path address, Runnable onClose) {
    this.client = client;
    this.metadata = Map.of("containerd-namespace-ttrpc", namespace);
    this.address = address;
    this.onClose = onClose;
  }

  /**
   * A connection of its own to the shim's socket; {@code address} may carry a
   * {@code unix://} prefix. {@link ShimConnections} shares one among a shim's tasks.
   */
  public static ShimClient connect(String address, String namespace) throws IOException {
    Path socket = socketPath(address);
    TtrpcClient client = TtrpcClient.connect(socket);
    return new ShimClient(client, namespace, socket, () -> closeQuietly(client));
  }

  static void closeQuietly(TtrpcClient client) {
    try {
      client.close();
    } catch (IOException e) {
      // the connection is gone either way
    }
  }

  public static Path socketPath(String address) {
    String trimmed = address.strip();
    if (trimmed.startsWith("unix://")) {
      trimmed = trimmed.substring("unix://".length());
    }
    if (trimmed.isEmpty() || !trimmed.startsWith("/")) {
      throw new FailedPreconditionException("shim address \"" + address
          + "\" is not a unix socket path");
    }
    return Path.of(trimmed);
  }

  public Path address() {
    return address;
  }

  public <T extends Message> T call(String method, Message request, Parser<T> answer) {
    return call(method, request, answer, CALL_TIMEOUT);
  }

  public void call(String method, Message request) {
    call(method, request, Empty.parser(), CALL_TIMEOUT);
  }

  public <T extends Message> T call(String method, Message request, Parser<T> answer,
      Duration timeout) {
    byte[] payload;
    try {
      payload = client.call(SERVICE, method, request.toByteArray(), metadata, timeout);
    } catch (TtrpcException e) {
      throw translate(method, e);
    } catch (IOException e) {
      throw new UnavailableException("shim at " + address + " (" + method + "): "
          + e.getMessage());
    }
    try {
      return answer.parseFrom(payload);
    } catch (InvalidProtocolBufferException e) {
      throw new FailedPreconditionException("shim at " + address + " answered " + method
          + " with an unreadable message: " + e.getMessage());
    }
  }

  /** The shim's status as the SPI's exception; codes outside the vocabulary are
   *  FailedPrecondition (runc's own failures come as Unknown). */
  private RuntimeException translate(String method, TtrpcException e) {
    RuntimeException known = ErrorStatus.exception(e.code(), "", e.statusMessage(), e)
        .orElse(null);
    return known != null ? known : new FailedPreconditionException(e.statusMessage()
        + " (shim " + method + ")", e);
  }

  /**
   * Done with this shim: its connection closes, or returns to the shared ones. Only the first
   * close counts (two deletes of one task may race; a second release would take the
   * connection from the shim's other tasks).
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      onClose.run();
    }
  }
}
