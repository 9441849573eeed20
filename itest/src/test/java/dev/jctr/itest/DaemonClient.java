package dev.jctr.itest;

import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersRequest;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A gRPC client of a jctrd (or containerd) socket, as a Go client would open one. */
final class DaemonClient implements AutoCloseable {

  private final EventLoopGroup group;
  private final ManagedChannel channel;

  DaemonClient(Path socket) {
    group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollDomainSocketChannel.class)
        .eventLoopGroup(group)
        .usePlaintext()
        .build();
  }

  /** The channel itself: calls carry no namespace (as the kubelet's CRI calls). */
  io.grpc.Channel channel() {
    return channel;
  }

  /** A channel whose calls carry {@code namespace}. */
  Channel in(String namespace) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of(CallNamespace.GRPC_HEADER, Metadata.ASCII_STRING_MARSHALLER),
        namespace);
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /** Waits until the metadata plugins serve: the socket opens before every plugin has started. */
  DaemonClient awaitMetadata(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        ContainersGrpc.newBlockingStub(in("default")).withDeadlineAfter(5, TimeUnit.SECONDS)
            .list(ListContainersRequest.getDefaultInstance());
        return this;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED
            || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
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
}
