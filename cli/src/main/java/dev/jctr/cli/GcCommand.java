package dev.jctr.cli;

import dev.jctr.api.proto.jctr.services.gc.v1.CollectRequest;
import dev.jctr.api.proto.jctr.services.gc.v1.CollectResponse;
import dev.jctr.api.proto.jctr.services.gc.v1.GCGrpc;

/** {@code jctr gc}: a garbage collection now, and what it removed. */
final class GcCommand {

  private GcCommand() {}

  static Command command() {
    return Command.named("gc", "prune")
        .describe("Collect garbage now: what no image, container or lease reaches.")
        .runs(GcCommand::collect);
  }

  private static int collect(Jctr root, Parsed args) {
    CollectResponse report = root.call(GCGrpc.getCollectMethod(),
        CollectRequest.getDefaultInstance());
    if (root.json()) {
      root.out().println(Json.of(report));
      return 0;
    }
    root.out().printf("removed %d blobs, %d snapshots (%d content and %d snapshot records),"
        + " %d expired leases in %.1f ms%n", report.getBlobsDeleted(),
        report.getBackendSnapshotsDeleted(), report.getContentRecords(),
        report.getSnapshotRecords(), report.getLeasesExpired(),
        report.getTookMicros() / 1000.0);
    return 0;
  }
}
