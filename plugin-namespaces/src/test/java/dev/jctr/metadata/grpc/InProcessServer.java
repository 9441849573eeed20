package dev.jctr.metadata.grpc;

import dev.jctr.api.errors.ErrorStatus;
import dev.jctr.api.namespace.CallNamespace;
import io.grpc.BindableService;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;

/**
 * The services under test behind the kernel's two rules, reproduced at the test's edge: the
 * namespace header becomes {@link CallNamespace}, thrown SPI errors become statuses.
 */
final class InProcessServer implements AutoCloseable {

  private static final Metadata.Key<String> HEADER =
      Metadata.Key.of(CallNamespace.GRPC_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  private static final Metadata.Key<String> LEASE = Metadata.Key.of(
      dev.jctr.api.leases.CallLease.GRPC_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  private final Server server;
  private final ManagedChannel channel;

  InProcessServer(BindableService... services) throws IOException {
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder builder = InProcessServerBuilder.forName(name).directExecutor();
    for (BindableService service : services) {
      builder.addService(ServerInterceptors.intercept(service, new ErrorsAndNamespace()));
    }
    server = builder.build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  /** A channel whose calls carry {@code namespace} and the lease {@code lease}. */
  Channel channel(String namespace, String lease) {
    Metadata headers = new Metadata();
    headers.put(HEADER, namespace);
    headers.put(LEASE, lease);
    return ClientInterceptors.intercept(channel,
        MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /** A channel whose calls carry {@code namespace}, or none when it is null. */
  Channel channel(String namespace) {
    if (namespace == null) {
      return channel;
    }
    Metadata headers = new Metadata();
    headers.put(HEADER, namespace);
    return ClientInterceptors.intercept(channel,
        MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  @Override
  public void close() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  private static final class ErrorsAndNamespace implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      String namespace = headers.get(HEADER);
      Context context = namespace == null ? Context.current()
          : Context.current().withValue(CallNamespace.KEY, namespace);
      String lease = headers.get(LEASE);
      if (lease != null) {
        context = context.withValue(dev.jctr.api.leases.CallLease.KEY, lease);
      }
      ServerCall.Listener<Q> listener = Contexts.interceptCall(context, call, headers, next);
      return new SimpleForwardingServerCallListener<>(listener) {
        @Override
        public void onHalfClose() {
          try {
            super.onHalfClose();
          } catch (RuntimeException e) {
            call.close(ErrorStatus.of(e), new Metadata());
          }
        }
      };
    }
  }
}
