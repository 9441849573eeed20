package dev.jctr.metadata.grpc;

import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.jctr.services.gc.v1.CollectRequest;
import dev.jctr.api.proto.jctr.services.gc.v1.CollectResponse;
import dev.jctr.api.proto.jctr.services.gc.v1.GCGrpc;
import dev.jctr.metadata.gc.GarbageCollector;
import io.grpc.BindableService;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code jctr.services.gc.v1.GC}: a collection on demand, over every namespace. */
@Component(service = BindableService.class, name = "io.jctr.grpc.v1.gc")
@Plugin(type = PluginTypes.GRPC, id = "gc", requires = {PluginTypes.GC})
public final class GcService extends GCGrpc.GCImplBase {

  private final GarbageCollector collector;

  @Activate
  public GcService(@Reference GarbageCollector collector) {
    this.collector = collector;
  }

  @Override
  public void collect(CollectRequest request, StreamObserver<CollectResponse> response) {
    GarbageCollector.Report report;
    try {
      report = collector.collectNow();
    } catch (IOException e) {
      throw new UncheckedIOException("garbage collection: " + e.getMessage(), e);
    }
    Reply.send(response, CollectResponse.newBuilder()
        .setLeasesExpired(report.leasesExpired())
        .setContentRecords(report.contentRecords())
        .setSnapshotRecords(report.snapshotRecords())
        .setBlobsDeleted(report.blobsDeleted())
        .setBackendSnapshotsDeleted(report.backendSnapshotsDeleted())
        .setTookMicros(report.took().toNanos() / 1000).build());
  }
}
