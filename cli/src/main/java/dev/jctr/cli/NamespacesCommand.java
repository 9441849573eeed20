package dev.jctr.cli;

import com.google.protobuf.FieldMask;
import dev.jctr.api.proto.containerd.services.namespaces.v1.CreateNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.DeleteNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.ListNamespacesRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.Namespace;
import dev.jctr.api.proto.containerd.services.namespaces.v1.NamespacesGrpc;
import dev.jctr.api.proto.containerd.services.namespaces.v1.UpdateNamespaceRequest;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** {@code jctr namespaces}: list, create, label and remove namespaces. */
final class NamespacesCommand {

  private NamespacesCommand() {}

  static Command command() {
    return Command.named("namespaces", "namespace", "ns")
        .describe("Manage namespaces (every object lives in one).")
        .subcommands(
            Command.named("list", "ls").describe("List namespaces: NAME, LABELS.")
                .option(Option.flag("print only the names", "-q", "--quiet"))
                .runs(NamespacesCommand::list),
            Command.named("create", "c").describe("Create a namespace with labels.")
                .positional("NAME", "the namespace")
                .positionals("KEY=VALUE", 0, Command.MANY, "labels")
                .runs(NamespacesCommand::create),
            Command.named("label").describe("Set labels on a namespace; KEY= removes one.")
                .positional("NAME", "the namespace")
                .positionals("KEY=VALUE", 1, Command.MANY, "labels to set or remove")
                .runs(NamespacesCommand::label),
            Command.named("remove", "rm", "delete", "del")
                .describe("Remove namespaces; refused while one still holds objects.")
                .positionals("NAME", 1, Command.MANY, "the namespaces")
                .runs(NamespacesCommand::remove));
  }

  private static int list(Jctr root, Parsed args) {
    List<Namespace> namespaces = root.call(NamespacesGrpc.getListMethod(),
            ListNamespacesRequest.getDefaultInstance()).getNamespacesList().stream()
        .sorted(Comparator.comparing(Namespace::getName)).toList();
    if (root.json()) {
      root.out().println(Json.array(namespaces));
    } else if (args.flag("--quiet")) {
      namespaces.forEach(n -> root.out().println(n.getName()));
    } else {
      Table table = new Table("NAME", "LABELS");
      namespaces.forEach(n -> table.row(n.getName(), LabelArgs.format(n.getLabelsMap())));
      table.print(root.out());
    }
    return 0;
  }

  private static int create(Jctr root, Parsed args) {
    Map<String, String> labels = LabelArgs.parse(args.command(), args.positionalsFrom(1));
    root.call(NamespacesGrpc.getCreateMethod(), CreateNamespaceRequest.newBuilder()
        .setNamespace(Namespace.newBuilder().setName(args.positional(0)).putAllLabels(labels))
        .build());
    return 0;
  }

  private static int label(Jctr root, Parsed args) {
    Map<String, String> labels = LabelArgs.parse(args.command(), args.positionalsFrom(1));
    Namespace.Builder namespace = Namespace.newBuilder().setName(args.positional(0));
    FieldMask.Builder mask = FieldMask.newBuilder();
    labels.forEach((key, value) -> {
      mask.addPaths("labels." + key);
      if (!value.isEmpty()) {
        namespace.putLabels(key, value);
      }
    });
    root.call(NamespacesGrpc.getUpdateMethod(), UpdateNamespaceRequest.newBuilder()
        .setNamespace(namespace).setUpdateMask(mask).build());
    return 0;
  }

  private static int remove(Jctr root, Parsed args) {
    for (String name : args.positionals()) {
      root.call(NamespacesGrpc.getDeleteMethod(),
          DeleteNamespaceRequest.newBuilder().setName(name).build());
      root.out().println(name);
    }
    return 0;
  }
}
