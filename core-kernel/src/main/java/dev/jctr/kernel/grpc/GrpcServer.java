package dev.jctr.kernel.grpc;

import dev.jctr.kernel.env.KernelProperties;
import dev.jctr.api.daemon.DaemonChannel;
import io.grpc.BindableService;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.util.MutableHandlerRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The daemon's gRPC server on its unix socket, serving the whiteboard: every
 * {@link BindableService} in the service registry is served while it is registered, and a
 * service that leaves the registry stops being served at once (calls to it get UNIMPLEMENTED),
 * with no restart. The same services are also served in process, as {@link DaemonChannel}, to
 * plugins that are clients of the others.
 */
@Component(immediate = true, service = {})
public final class GrpcServer implements DaemonChannel {

  private static final Logger LOG = System.getLogger(GrpcServer.class.getName());

  private final MutableHandlerRegistry registry = new MutableHandlerRegistry();
  private final Map<BindableService, ServerServiceDefinition> served = new ConcurrentHashMap<>();
  private Path socket;
  private Server server;
  private Server localServer;
  private ManagedChannel localChannel;
  private int maxMessage;
  private org.osgi.framework.FrameworkListener frameworkListener;
  private boolean stopped;
  private org.osgi.framework.ServiceRegistration<DaemonChannel> channelRegistration;
  private EventLoopGroup boss;
  private EventLoopGroup workers;
  private ExecutorService executor;

  @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addService(BindableService service) {
    ServerServiceDefinition definition = service.bindService();
    served.put(service, definition);
    registry.addService(definition);
    LOG.log(Level.DEBUG, "serving {0}", definition.getServiceDescriptor().getName());
  }

  void removeService(BindableService service) {
    ServerServiceDefinition definition = served.remove(service);
    if (definition != null) {
      registry.removeService(definition);
      LOG.log(Level.DEBUG, "stopped serving {0}", definition.getServiceDescriptor().getName());
    }
  }

  @Activate
  void activate(BundleContext context) throws IOException {
    socket = Path.of(context.getProperty(KernelProperties.GRPC_ADDRESS));
    Files.createDirectories(socket.getParent());
    Files.deleteIfExists(socket); // the launcher has checked that no live server owns it
    boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    workers = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    executor = Executors.newThreadPerTaskExecutor(
        Thread.ofVirtual().name("grpc-call-", 0).factory());
    int maxMessage = intProperty(context, KernelProperties.GRPC_MAX_RECV, 16 << 20);
    this.maxMessage = maxMessage;
    // a name unique to this framework: two daemons in one JVM (tests) must not meet
    String localName = "jctrd-" + socket + "-" + System.identityHashCode(this);
    localServer = served(InProcessServerBuilder.forName(localName)
        .maxInboundMessageSize(maxMessage))
        .executor(Runnable::run)
        .callExecutor(new LocalCallExecutor(executor))
        .build()
        .start();
    localChannel = InProcessChannelBuilder.forName(localName)
        .maxInboundMessageSize(maxMessage)
        .executor(executor)
        .build();
    // registered by hand, not as a DS service: plugins that need the channel also serve
    // services, and a DS-provided channel would make their binding here circular
    channelRegistration = context.registerService(DaemonChannel.class, this, null);
    // The socket opens once the framework has started every bundle, so that a client that
    // connects finds every service (and every disabled plugin gone); a kernel started into
    // a running framework (tests) opens it at once.
    if (context.getBundle(0).getState() == org.osgi.framework.Bundle.ACTIVE) {
      openSocket(context);
    } else {
      frameworkListener = event -> {
        if (event.getType() == org.osgi.framework.FrameworkEvent.STARTED) {
          try {
            openSocket(context);
          } catch (IOException e) {
            LOG.log(Level.ERROR, "cannot serve gRPC on " + socket, e);
          }
        }
      };
      context.addFrameworkListener(frameworkListener);
    }
  }

  private synchronized void openSocket(BundleContext context) throws IOException {
    if (server != null || stopped) {
      return;
    }
    server = served(NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .executor(executor)
        .channelType(EpollServerDomainSocketChannel.class)
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers)
        .maxInboundMessageSize(maxMessage))
        .build()
        .start();
    restrictSocket(context);
    LOG.log(Level.INFO, "serving gRPC on {0}", socket);
  }

  private <T extends ServerBuilder<T>> T served(T builder) {
    return builder.fallbackHandlerRegistry(registry)
        // interceptors run last-added first: errors are mapped around the namespace check
        .intercept(new NamespaceInterceptor())
        .intercept(new ErrorInterceptor())
        .intercept(new CallLogInterceptor());
  }

  @Override
  public Channel channel() {
    return localChannel;
  }

  private void restrictSocket(BundleContext context) throws IOException {
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
    int uid = intProperty(context, KernelProperties.GRPC_UID, 0);
    int gid = intProperty(context, KernelProperties.GRPC_GID, 0);
    if (uid != 0 || gid != 0) {
      Files.setAttribute(socket, "unix:uid", uid);
      Files.setAttribute(socket, "unix:gid", gid);
    }
  }

  @Deactivate
  void deactivate(BundleContext context) throws InterruptedException, IOException {
    synchronized (this) {
      stopped = true;
    }
    if (frameworkListener != null) {
      context.removeFrameworkListener(frameworkListener);
    }
    try {
      channelRegistration.unregister();
    } catch (IllegalStateException e) {
      // the framework is stopping and has unregistered it already
    }
    localChannel.shutdownNow();
    localServer.shutdownNow();
    if (server != null) {
      server.shutdown();
      if (!server.awaitTermination(3, TimeUnit.SECONDS)) {
        server.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
      }
    }
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(3, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(3, TimeUnit.SECONDS);
    executor.shutdownNow();
    Files.deleteIfExists(socket);
    LOG.log(Level.INFO, "stopped serving gRPC on {0}", socket);
  }

  private static int intProperty(BundleContext context, String key, int fallback) {
    String value = context.getProperty(key);
    return value == null || value.isBlank() ? fallback : Integer.parseInt(value);
  }
}
