package dev.jctr.cli;

import com.google.protobuf.FieldMask;
import dev.jctr.api.proto.containerd.services.snapshots.v1.CommitSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.Info;
import dev.jctr.api.proto.containerd.services.snapshots.v1.ListSnapshotsRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.ListSnapshotsResponse;
import dev.jctr.api.proto.containerd.services.snapshots.v1.MountsRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.PrepareSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.RemoveSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.SnapshotsGrpc;
import dev.jctr.api.proto.containerd.services.snapshots.v1.StatSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UpdateSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UsageRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.UsageResponse;
import dev.jctr.api.proto.containerd.services.snapshots.v1.ViewSnapshotRequest;
import dev.jctr.api.proto.containerd.types.Mount;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code jctr snapshots}: snapshots of one snapshotter in the current namespace. */
final class SnapshotsCommand {

  static final Option SNAPSHOTTER = Option.value("NAME",
      "snapshotter (env JCTR_SNAPSHOTTER)", "--snapshotter")
      .withDefault(System.getenv().getOrDefault("JCTR_SNAPSHOTTER", "overlayfs"));
  private static final Option TARGET = Option.value("DIR",
      "print the mount commands for this directory", "--target");

  private SnapshotsCommand() {}

  static Command command() {
    return Command.named("snapshots", "snapshot")
        .describe("Manage snapshots (layers and container root filesystems).")
        .option(SNAPSHOTTER)
        .subcommands(
            Command.named("list", "ls").describe("List snapshots: KEY, PARENT, KIND.")
                .option(Option.flag("print only the keys", "-q", "--quiet"))
                .positionals("FILTER", 0, Command.MANY, "filters, e.g. kind==committed")
                .runs(SnapshotsCommand::list),
            Command.named("tree").describe("Show snapshots as a tree of parents and children.")
                .runs(SnapshotsCommand::tree),
            Command.named("info").describe("Print a snapshot's information as JSON.")
                .positional("KEY", "the snapshot")
                .runs(SnapshotsCommand::info),
            Command.named("usage").describe("Show disk use: KEY, SIZE, INODES.")
                .option(Option.flag("sizes in bytes", "-b", "--bytes"))
                .positionals("KEY", 0, Command.MANY, "snapshots (default: all)")
                .runs(SnapshotsCommand::usage),
            Command.named("prepare")
                .describe("Create an active snapshot on a committed parent (a GC root).")
                .option(TARGET)
                .positional("KEY", "the new snapshot")
                .positionals("PARENT", 0, 1, "a committed snapshot")
                .runs((root, args) -> create(root, args, false)),
            Command.named("view")
                .describe("Create a read-only view of a committed snapshot (a GC root).")
                .option(TARGET)
                .positional("KEY", "the new view")
                .positionals("PARENT", 0, 1, "a committed snapshot")
                .runs((root, args) -> create(root, args, true)),
            Command.named("commit").describe("Commit an active snapshot under a name.")
                .positional("NAME", "the committed snapshot's name")
                .positional("KEY", "the active snapshot")
                .runs(SnapshotsCommand::commit),
            Command.named("delete", "rm", "del", "remove").describe("Remove snapshots.")
                .positionals("KEY", 1, Command.MANY, "the snapshots")
                .runs(SnapshotsCommand::remove),
            Command.named("mounts", "m", "mount")
                .describe("Print the commands that mount a snapshot on TARGET.")
                .positional("TARGET", "the directory to mount on")
                .positional("KEY", "an active snapshot or a view")
                .runs(SnapshotsCommand::mounts),
            Command.named("label").describe("Set labels on a snapshot; KEY= removes one.")
                .positional("KEY", "the snapshot")
                .positionals("LABEL=VALUE", 1, Command.MANY, "labels to set or remove")
                .runs(SnapshotsCommand::label));
  }

  private static String snapshotter(Parsed args) {
    return args.value("--snapshotter");
  }

  static List<Info> all(Jctr root, String snapshotter, List<String> filters) {
    List<Info> infos = new ArrayList<>();
    Iterator<ListSnapshotsResponse> responses = root.listing(SnapshotsGrpc.getListMethod(),
        ListSnapshotsRequest.newBuilder().setSnapshotter(snapshotter).addAllFilters(filters)
            .build());
    responses.forEachRemaining(r -> infos.addAll(r.getInfoList()));
    return infos;
  }

  private static int list(Jctr root, Parsed args) {
    List<Info> infos = all(root, snapshotter(args), args.positionals());
    if (root.json()) {
      root.out().println(Json.array(infos));
    } else if (args.flag("--quiet")) {
      infos.forEach(i -> root.out().println(i.getName()));
    } else {
      Table table = new Table("KEY", "PARENT", "KIND");
      infos.forEach(i -> table.row(i.getName(), i.getParent(), kind(i)));
      table.print(root.out());
    }
    return 0;
  }

  static String kind(Info info) {
    String name = info.getKind().name().toLowerCase(Locale.ROOT);
    return Character.toUpperCase(name.charAt(0)) + name.substring(1);
  }

  private static int tree(Jctr root, Parsed args) {
    root.out().print(tree(all(root, snapshotter(args), List.of())));
    return 0;
  }

  /** Roots first, each child under its parent, indented as ctr draws it. */
  static String tree(List<Info> infos) {
    Map<String, List<String>> children = new HashMap<>();
    List<String> roots = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    infos.forEach(i -> names.add(i.getName()));
    for (Info info : infos) {
      if (info.getParent().isEmpty() || !names.contains(info.getParent())) {
        roots.add(info.getName());
      } else {
        children.computeIfAbsent(info.getParent(), p -> new ArrayList<>()).add(info.getName());
      }
    }
    StringBuilder text = new StringBuilder();
    for (String name : roots) {
      draw(text, name, 0, children);
    }
    return text.toString();
  }

  private static void draw(StringBuilder text, String name, int depth,
      Map<String, List<String>> children) {
    text.append(depth == 0 ? " " : "  ".repeat(depth) + "\\_ ").append(name).append('\n');
    for (String child : children.getOrDefault(name, List.of())) {
      draw(text, child, depth + 1, children);
    }
  }

  private static int info(Jctr root, Parsed args) {
    Info info = root.call(SnapshotsGrpc.getStatMethod(), StatSnapshotRequest.newBuilder()
        .setSnapshotter(snapshotter(args)).setKey(args.positional(0)).build()).getInfo();
    root.out().println(Json.of(info));
    return 0;
  }

  private static int usage(Jctr root, Parsed args) {
    List<String> keys = args.positionals().isEmpty()
        ? all(root, snapshotter(args), List.of()).stream().map(Info::getName).toList()
        : args.positionals();
    Table table = new Table("KEY", "SIZE", "INODES");
    for (String key : keys) {
      UsageResponse usage = root.call(SnapshotsGrpc.getUsageMethod(), UsageRequest.newBuilder()
          .setSnapshotter(snapshotter(args)).setKey(key).build());
      table.row(key, args.flag("--bytes") ? Long.toString(usage.getSize())
          : humanSize(usage.getSize()), Long.toString(usage.getInodes()));
    }
    table.print(root.out());
    return 0;
  }

  /** Sizes as ctr prints them: 1024-based, one decimal, B KiB MiB GiB TiB. */
  static String humanSize(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double size = bytes;
    int unit = 0;
    while (size >= 1024 && unit < units.length - 1) {
      size /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s", size, units[unit]);
  }

  private static int create(Jctr root, Parsed args, boolean view) {
    String key = args.positional(0);
    String parent = args.positionals().size() > 1 ? args.positional(1) : "";
    List<Mount> mounts = view
        ? root.call(SnapshotsGrpc.getViewMethod(), ViewSnapshotRequest.newBuilder()
            .setSnapshotter(snapshotter(args)).setKey(key).setParent(parent)
            .putAllLabels(gcRoot()).build()).getMountsList()
        : root.call(SnapshotsGrpc.getPrepareMethod(), PrepareSnapshotRequest.newBuilder()
            .setSnapshotter(snapshotter(args)).setKey(key).setParent(parent)
            .putAllLabels(gcRoot()).build()).getMountsList();
    String target = args.value("--target");
    if (target != null) {
      printMounts(root.out(), target, mounts);
    }
    return 0;
  }

  private static int commit(Jctr root, Parsed args) {
    root.call(SnapshotsGrpc.getCommitMethod(), CommitSnapshotRequest.newBuilder()
        .setSnapshotter(snapshotter(args)).setName(args.positional(0))
        .setKey(args.positional(1)).putAllLabels(gcRoot()).build());
    return 0;
  }

  /**
   * Snapshots made by hand belong to no image, container or lease: labelled as roots (as ctr
   * labels what it prepares and commits, and here views too), the next garbage collection
   * leaves them until they are removed.
   */
  private static Map<String, String> gcRoot() {
    return Map.of("containerd.io/gc.root",
        Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
  }

  private static int remove(Jctr root, Parsed args) {
    for (String key : args.positionals()) {
      root.call(SnapshotsGrpc.getRemoveMethod(), RemoveSnapshotRequest.newBuilder()
          .setSnapshotter(snapshotter(args)).setKey(key).build());
    }
    return 0;
  }

  private static int mounts(Jctr root, Parsed args) {
    List<Mount> mounts = root.call(SnapshotsGrpc.getMountsMethod(), MountsRequest.newBuilder()
        .setSnapshotter(snapshotter(args)).setKey(args.positional(1)).build()).getMountsList();
    printMounts(root.out(), args.positional(0), mounts);
    return 0;
  }

  /** One mount(8) command line per mount, as ctr prints them: pipe them to sh to mount. */
  static void printMounts(PrintWriter out, String target, List<Mount> mounts) {
    for (Mount mount : mounts) {
      out.println("mount -t " + mount.getType() + " " + mount.getSource() + " " + target
          + (mount.getOptionsCount() == 0 ? "" : " -o " + String.join(",",
              mount.getOptionsList())));
    }
  }

  private static int label(Jctr root, Parsed args) {
    Map<String, String> labels = LabelArgs.parse(args.command(), args.positionalsFrom(1));
    Info.Builder info = Info.newBuilder().setName(args.positional(0));
    FieldMask.Builder mask = FieldMask.newBuilder();
    labels.forEach((key, value) -> {
      mask.addPaths("labels." + key);
      if (!value.isEmpty()) {
        info.putLabels(key, value);
      }
    });
    root.call(SnapshotsGrpc.getUpdateMethod(), UpdateSnapshotRequest.newBuilder()
        .setSnapshotter(snapshotter(args)).setInfo(info).setUpdateMask(mask).build());
    return 0;
  }
}
