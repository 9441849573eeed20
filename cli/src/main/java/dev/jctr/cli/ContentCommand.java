package dev.jctr.cli;

import dev.jctr.api.proto.containerd.services.content.v1.ContentGrpc;
import dev.jctr.api.proto.containerd.services.content.v1.DeleteContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.Info;
import dev.jctr.api.proto.containerd.services.content.v1.ListContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ListContentResponse;
import dev.jctr.api.proto.containerd.services.content.v1.ListStatusesRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ReadContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ReadContentResponse;
import dev.jctr.api.proto.containerd.services.content.v1.Status;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** {@code jctr content}: blobs in the current namespace. */
final class ContentCommand {

  private ContentCommand() {}

  static Command command() {
    return Command.named("content")
        .describe("Manage content (blobs by digest).")
        .subcommands(
            Command.named("list", "ls").describe("List blobs: DIGEST, SIZE, AGE, LABELS.")
                .option(Option.flag("print only the digests", "-q", "--quiet"))
                .positionals("FILTER", 0, Command.MANY, "filters, e.g. labels.a==b")
                .runs(ContentCommand::list),
            Command.named("get").describe("Write a blob's bytes to standard output.")
                .positional("DIGEST", "the blob")
                .runs(ContentCommand::get),
            Command.named("delete", "rm", "del", "remove").describe("Delete blobs.")
                .positionals("DIGEST", 1, Command.MANY, "the blobs")
                .runs(ContentCommand::remove),
            ImagesCommand.pullCommand(Command.named("fetch").describe("Fetch an image's "
                + "content into jctrd and record the image, without unpacking it."), true),
            Command.named("active").describe("List ingests in progress: REF, SIZE, AGE.")
                .runs(ContentCommand::active));
  }

  private static int list(Jctr root, Parsed args) {
    List<Info> infos = new ArrayList<>();
    Iterator<ListContentResponse> responses = root.listing(ContentGrpc.getListMethod(),
        ListContentRequest.newBuilder().addAllFilters(args.positionals()).build());
    responses.forEachRemaining(r -> infos.addAll(r.getInfoList()));
    if (root.json()) {
      root.out().println(Json.array(infos));
    } else if (args.flag("--quiet")) {
      infos.forEach(i -> root.out().println(i.getDigest()));
    } else {
      Table table = new Table("DIGEST", "SIZE", "AGE", "LABELS");
      Instant now = Instant.now();
      for (Info info : infos) {
        table.row(info.getDigest(), SnapshotsCommand.humanSize(info.getSize()),
            age(Instant.ofEpochSecond(info.getCreatedAt().getSeconds()), now),
            info.getLabelsCount() == 0 ? "-" : LabelArgs.format(info.getLabelsMap()));
      }
      table.print(root.out());
    }
    return 0;
  }

  private static int get(Jctr root, Parsed args) throws IOException {
    Iterator<ReadContentResponse> chunks = root.stream(ContentGrpc.getReadMethod(),
        ReadContentRequest.newBuilder().setDigest(args.positional(0)).build());
    OutputStream out = System.out;
    while (chunks.hasNext()) {
      chunks.next().getData().writeTo(out);
    }
    out.flush();
    return 0;
  }

  private static int remove(Jctr root, Parsed args) {
    for (String digest : args.positionals()) {
      root.call(ContentGrpc.getDeleteMethod(),
          DeleteContentRequest.newBuilder().setDigest(digest).build());
      root.out().println(digest);
    }
    return 0;
  }

  private static int active(Jctr root, Parsed args) {
    List<Status> statuses = root.call(ContentGrpc.getListStatusesMethod(),
        ListStatusesRequest.getDefaultInstance()).getStatusesList();
    if (root.json()) {
      root.out().println(Json.array(statuses));
      return 0;
    }
    Table table = new Table("REF", "SIZE", "AGE");
    Instant now = Instant.now();
    for (Status status : statuses) {
      table.row(status.getRef(), SnapshotsCommand.humanSize(status.getOffset())
          + (status.getTotal() > 0 ? "/" + SnapshotsCommand.humanSize(status.getTotal()) : ""),
          age(Instant.ofEpochSecond(status.getStartedAt().getSeconds()), now));
    }
    table.print(root.out());
    return 0;
  }

  /** A short age: 5s, 3m, 2h, 4d. */
  static String age(Instant then, Instant now) {
    Duration age = Duration.between(then, now);
    if (age.toDays() > 0) {
      return age.toDays() + "d";
    }
    if (age.toHours() > 0) {
      return age.toHours() + "h";
    }
    if (age.toMinutes() > 0) {
      return age.toMinutes() + "m";
    }
    return Math.max(0, age.toSeconds()) + "s";
  }
}
