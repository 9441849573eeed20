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

/** {@code jctr leases}: leases hold resources back from garbage collection. */
final class LeasesCommand {

  /** The label containerd's collector reads a lease's expiry from. */
  static final String EXPIRE_LABEL = "containerd.io/gc.expire";

  private LeasesCommand() {}

  static Command command() {
    return Command.named("leases", "lease")
        .describe("Manage leases (they keep resources from garbage collection).")
        .subcommands(
            Command.named("list", "ls").describe("List leases: ID, CREATED AT, LABELS.")
                .option(Option.flag("print only the ids", "-q", "--quiet"))
                .positionals("FILTER", 0, Command.MANY, "filters (any may match)")
                .runs(LeasesCommand::list),
            Command.named("create").describe("Create a lease and print its id.")
                .option(Option.value("ID", "lease id (default: chosen by jctrd)", "--id")
                    .withDefault(""))
                .option(Option.value("DURATION", "expire after this long, e.g. 24h; 0 never",
                    "-x", "--expires").withDefault("24h"))
                .option(Option.value("KEY=VALUE", "a label; repeatable", "-l", "--label"))
                .positionals("KEY=VALUE", 0, Command.MANY, "labels, as ctr takes them")
                .runs(LeasesCommand::create),
            Command.named("delete", "rm", "del", "remove").describe("Delete leases.")
                .option(Option.flag("collect garbage before returning", "--sync"))
                .positionals("ID", 1, Command.MANY, "the leases")
                .runs(LeasesCommand::remove));
  }

  static String rfc3339(Instant instant) {
    return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(instant.atOffset(ZoneOffset.UTC));
  }

  private static int list(Jctr root, Parsed args) {
    List<Lease> leases = root.call(LeasesGrpc.getListMethod(),
        ListRequest.newBuilder().addAllFilters(args.positionals()).build()).getLeasesList();
    if (root.json()) {
      root.out().println(Json.array(leases));
    } else if (args.flag("--quiet")) {
      leases.forEach(l -> root.out().println(l.getId()));
    } else {
      Table table = new Table("ID", "CREATED AT", "LABELS");
      for (Lease lease : leases) {
        Instant created = Instant.ofEpochSecond(lease.getCreatedAt().getSeconds());
        table.row(lease.getId(), rfc3339(created), LabelArgs.format(lease.getLabelsMap()));
      }
      table.print(root.out());
    }
    return 0;
  }

  private static int create(Jctr root, Parsed args) {
    List<String> pairs = new ArrayList<>(args.values("--label"));
    pairs.addAll(args.positionals());
    Map<String, String> labels = LabelArgs.parse(args.command(), pairs);
    String expiry = expiryLabel(args.command(), args.value("--expires"), Clock.systemUTC());
    if (expiry != null) {
      labels.put(EXPIRE_LABEL, expiry);
    }
    Lease lease = root.call(LeasesGrpc.getCreateMethod(), CreateRequest.newBuilder()
        .setId(args.value("--id")).putAllLabels(labels).build()).getLease();
    root.out().println(lease.getId());
    return 0;
  }

  /**
   * The expiry label for a lease created now that expires after {@code expires} (a Go duration),
   * or null for one that never expires ({@code 0}).
   */
  static String expiryLabel(Command command, String expires, Clock clock) {
    Duration after;
    try {
      after = GoDuration.parse(expires);
    } catch (IllegalArgumentException e) {
      throw new UsageException(command, "--expires: " + e.getMessage());
    }
    if (after.isZero()) {
      return null;
    }
    return rfc3339(clock.instant().plus(after).truncatedTo(ChronoUnit.SECONDS));
  }

  private static int remove(Jctr root, Parsed args) {
    for (String id : args.positionals()) {
      root.call(LeasesGrpc.getDeleteMethod(),
          DeleteRequest.newBuilder().setId(id).setSync(args.flag("--sync")).build());
      root.out().println(id);
    }
    return 0;
  }
}
