package dev.jctr.cli;

import dev.jctr.api.leases.CallLease;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.cli.transport.GrpcConnection;
import io.grpc.MethodDescriptor;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The command's connection to jctrd over its unix socket, opened at the first call. Every call
 * carries the namespace header; unary calls carry the command's deadline too.
 */
final class DaemonConnection implements AutoCloseable {

  private final Path socket;
  private final Map<String, String> metadata;
  private final long timeoutNanos;
  private GrpcConnection connection;

  private DaemonConnection(Path socket, String namespace, long timeoutSeconds) {
    this.socket = socket;
    this.metadata = Map.of(CallNamespace.GRPC_HEADER, namespace);
    this.timeoutNanos = TimeUnit.SECONDS.toNanos(timeoutSeconds);
  }

  static DaemonConnection open(Path socket, String namespace, long timeoutSeconds) {
    return new DaemonConnection(socket, namespace, timeoutSeconds);
  }

  /** One unary call within the command's deadline. */
  <Q, R> R call(MethodDescriptor<Q, R> method, Q request) {
    return connection().unary(method, request, metadata, timeoutNanos);
  }

  /** {@link #call} whose new content and snapshots join lease {@code lease}. */
  <Q, R> R callInLease(MethodDescriptor<Q, R> method, Q request, String lease) {
    Map<String, String> headers = new HashMap<>(metadata);
    headers.put(CallLease.GRPC_HEADER, lease);
    return connection().unary(method, request, headers, timeoutNanos);
  }

  /** A server stream that must end within the command's deadline, such as a listing. */
  <Q, R> Iterator<R> listing(MethodDescriptor<Q, R> method, Q request) {
    return connection().serverStreaming(method, request, metadata, timeoutNanos);
  }

  /** A server stream without deadline: it lasts until the server ends it or the user stops. */
  <Q, R> Iterator<R> stream(MethodDescriptor<Q, R> method, Q request) {
    return connection().serverStreaming(method, request, metadata, 0);
  }

  /** Requests streamed to the server, then its responses, without deadline. */
  <Q, R> Iterator<R> upload(MethodDescriptor<Q, R> method, Iterator<Q> requests) {
    return connection().clientStreaming(method, requests, metadata, 0);
  }

  private GrpcConnection connection() {
    if (connection == null) {
      connection = GrpcConnection.open(socket);
    }
    return connection;
  }

  @Override
  public void close() {
    if (connection != null) {
      connection.close();
    }
  }
}
