package dev.jctr.kernel.ttrpc;

import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.ttrpc.TtrpcServer;
import dev.jctr.api.ttrpc.TtrpcService;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The daemon's ttrpc socket ({@code <grpc address>.ttrpc}, or {@code [ttrpc] address}), where
 * shims call back (events Forward). Serves the whiteboard of {@link TtrpcService}s.
 */
@Component(immediate = true)
public final class TtrpcEndpoint {

  private static final Logger LOG = System.getLogger(TtrpcEndpoint.class.getName());

  private final TtrpcServer server = new TtrpcServer();
  private final Path socket;

  @Activate
  public TtrpcEndpoint(@Reference DaemonEnvironment environment) throws IOException {
    this.socket = environment.ttrpcAddress();
    Files.createDirectories(socket.getParent());
    server.listen(socket);
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
    LOG.log(Level.INFO, "serving ttrpc on {0}", socket);
  }

  @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY, unbind = "removeService")
  void addService(TtrpcService service) {
    service.methods().forEach((name, method) -> server.register(service.name(), name, method));
    LOG.log(Level.DEBUG, "serving ttrpc {0}", service.name());
  }

  void removeService(TtrpcService service) {
    server.unregister(service.name());
  }

  @Deactivate
  void deactivate() throws IOException {
    server.close();
    Files.deleteIfExists(socket);
  }
}
