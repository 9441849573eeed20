package dev.jctr.cli;

import dev.jctr.api.namespace.CallNamespace;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One gRPC channel to jctrd over its unix socket. Every call carries the namespace header and a
 * deadline. Closing it shuts the event loop down, or the JVM would not exit.
 */
final class DaemonConnection implements AutoCloseable {

  private static final Metadata.Key<String> NAMESPACE =
      Metadata.Key.of(CallNamespace.GRPC_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  private final EventLoopGroup group;
  private final ManagedChannel channel;
  private final Channel namespaced;
  private final long timeoutSeconds;

  private DaemonConnection(EventLoopGroup group, ManagedChannel channel, String namespace,
      long timeoutSeconds) {
    this.group = group;
    this.channel = channel;
    this.namespaced = ClientInterceptors.intercept(channel, new NamespaceHeader(namespace));
    this.timeoutSeconds = timeoutSeconds;
  }

  static DaemonConnection open(Path socket, String namespace, long timeoutSeconds) {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    ManagedChannel channel = NettyChannelBuilder
        .forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollDomainSocketChannel.class)
        .eventLoopGroup(group)
        .usePlaintext()
        .maxInboundMessageSize(16 << 20)
        .build();
    return new DaemonConnection(group, channel, namespace, timeoutSeconds);
  }

  /** The channel to build stubs on. */
  Channel channel() {
    return namespaced;
  }

  /** A stub with the command's deadline. */
  <S extends AbstractStub<S>> S withDeadline(S stub) {
    return stub.withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
  }

  /** Adds {@code containerd-namespace} to every call. */
  private record NamespaceHeader(String namespace) implements ClientInterceptor {
    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method,
        CallOptions options, Channel next) {
      return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          headers.put(NAMESPACE, namespace);
          super.start(listener, headers);
        }
      };
    }
  }
}
