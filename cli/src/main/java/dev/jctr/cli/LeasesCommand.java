package dev.jctr.cli;

import dev.jctr.api.proto.containerd.services.leases.v1.CreateRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.DeleteRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.Lease;
import dev.jctr.api.proto.containerd.services.leases.v1.LeasesGrpc;
import dev.jctr.api.proto.containerd.services.leases.v1.ListRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;

/** {@code jctr leases}: leases hold resources back from garbage collection. */
@Command(name = "leases", aliases = "lease",
    description = "Manage leases (they keep resources from garbage collection).",
    subcommands = {LeasesCommand.ListCommand.class, LeasesCommand.CreateCommand.class,
        LeasesCommand.RemoveCommand.class})
final class LeasesCommand {

  /** The label containerd's collector reads a lease's expiry from. */
  static final String EXPIRE_LABEL = "containerd.io/gc.expire";

  static String rfc3339(Instant instant) {
    return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(instant.atOffset(ZoneOffset.UTC));
  }

  @Command(name = "list", aliases = "ls", description = "List leases: ID, CREATED AT, LABELS.")
  static final class ListCommand extends ConnectedCommand {

    @Option(names = {"-q", "--quiet"}, description = "print only the ids")
    boolean quiet;

    @Parameters(paramLabel = "FILTER", arity = "0..*") List<String> filters = List.of();

    @Override
    void run(DaemonConnection connection) {
      List<Lease> leases = connection
          .call(LeasesGrpc.getListMethod(), ListRequest.newBuilder().addAllFilters(filters).build()).getLeasesList();
      if (json()) {
        out().println(Json.array(leases));
      } else if (quiet) {
        leases.forEach(l -> out().println(l.getId()));
      } else {
        Table table = new Table("ID", "CREATED AT", "LABELS");
        for (Lease lease : leases) {
          Instant created = Instant.ofEpochSecond(lease.getCreatedAt().getSeconds());
          table.row(lease.getId(), rfc3339(created), LabelArgs.format(lease.getLabelsMap()));
        }
        table.print(out());
      }
    }
  }

  @Command(name = "create", description = "Create a lease and print its id.")
  static final class CreateCommand extends ConnectedCommand {

    @Option(names = "--id", paramLabel = "ID", description = "lease id (default: chosen by jctrd)")
    String id = "";

    @Option(names = {"-x", "--expires"}, paramLabel = "DURATION",
        description = "expire after this long, e.g. 24h (default ${DEFAULT-VALUE}; 0 never)")
    String expires = "24h";

    @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE") List<String> labels =
        new ArrayList<>();

    @Parameters(paramLabel = "KEY=VALUE", arity = "0..*",
        description = "labels, as ctr takes them") List<String> positionalLabels = List.of();

    Clock clock = Clock.systemUTC();

    @Override
    void run(DaemonConnection connection) {
      List<String> all = new ArrayList<>(labels);
      all.addAll(positionalLabels);
      Map<String, String> parsed = LabelArgs.parse(spec, all);
      String expiry = expiryLabel();
      if (expiry != null) {
        parsed.put(EXPIRE_LABEL, expiry);
      }
      Lease lease = connection.call(LeasesGrpc.getCreateMethod(), CreateRequest.newBuilder().setId(id)
          .putAllLabels(parsed).build()).getLease();
      out().println(lease.getId());
    }

    /** The expiry as containerd's collector reads it, or null for a lease that never expires. */
    String expiryLabel() {
      Duration after;
      try {
        after = GoDuration.parse(expires);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--expires: " + e.getMessage());
      }
      if (after.isZero()) {
        return null;
      }
      return rfc3339(clock.instant().plus(after).truncatedTo(ChronoUnit.SECONDS));
    }
  }

  @Command(name = "delete", aliases = {"rm", "del", "remove"}, description = "Delete leases.")
  static final class RemoveCommand extends ConnectedCommand {

    @Parameters(paramLabel = "ID", arity = "1..*") List<String> ids;

    @Option(names = "--sync", description = "collect garbage before returning")
    boolean sync;

    @Override
    void run(DaemonConnection connection) {
      for (String id : ids) {
        connection.call(LeasesGrpc.getDeleteMethod(), DeleteRequest.newBuilder().setId(id).setSync(sync).build());
        out().println(id);
      }
    }
  }
}
