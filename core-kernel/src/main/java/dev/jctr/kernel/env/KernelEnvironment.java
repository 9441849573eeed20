package dev.jctr.kernel.env;

import dev.jctr.api.daemon.DaemonEnvironment;
import java.nio.file.Path;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/** The daemon's directories and sockets, as the launcher resolved them. */
@Component(service = DaemonEnvironment.class)
public final class KernelEnvironment implements DaemonEnvironment {

  private final Path root;
  private final Path state;
  private final Path grpcAddress;
  private final Path ttrpcAddress;

  @Activate
  public KernelEnvironment(BundleContext context) {
    this.root = Path.of(required(context, KernelProperties.ROOT));
    this.state = Path.of(required(context, KernelProperties.STATE));
    this.grpcAddress = Path.of(required(context, KernelProperties.GRPC_ADDRESS));
    this.ttrpcAddress = Path.of(required(context, KernelProperties.TTRPC_ADDRESS));
  }

  private static String required(BundleContext context, String key) {
    String value = context.getProperty(key);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException("framework property " + key
          + " is not set: the kernel bundle must be started by the jctrd launcher"
          + " (or a test harness that sets it)");
    }
    return value;
  }

  @Override
  public Path root() {
    return root;
  }

  @Override
  public Path state() {
    return state;
  }

  @Override
  public Path grpcAddress() {
    return grpcAddress;
  }

  @Override
  public Path ttrpcAddress() {
    return ttrpcAddress;
  }
}
