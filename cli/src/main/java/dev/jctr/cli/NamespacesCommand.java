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
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jctr namespaces}: list, create, label and remove namespaces. */
@Command(name = "namespaces", aliases = {"namespace", "ns"},
    description = "Manage namespaces (every object lives in one).",
    subcommands = {NamespacesCommand.ListCommand.class, NamespacesCommand.CreateCommand.class,
        NamespacesCommand.LabelCommand.class, NamespacesCommand.RemoveCommand.class})
final class NamespacesCommand {

  @Command(name = "list", aliases = "ls", description = "List namespaces: NAME, LABELS.")
  static final class ListCommand extends ConnectedCommand {

    @Option(names = {"-q", "--quiet"}, description = "print only the names")
    boolean quiet;

    @Override
    void run(DaemonConnection connection) {
      List<Namespace> namespaces = connection
          .call(NamespacesGrpc.getListMethod(), ListNamespacesRequest.getDefaultInstance()).getNamespacesList().stream()
          .sorted(Comparator.comparing(Namespace::getName)).toList();
      if (json()) {
        out().println(Json.array(namespaces));
      } else if (quiet) {
        namespaces.forEach(n -> out().println(n.getName()));
      } else {
        Table table = new Table("NAME", "LABELS");
        namespaces.forEach(n -> table.row(n.getName(), LabelArgs.format(n.getLabelsMap())));
        table.print(out());
      }
    }
  }

  @Command(name = "create", aliases = "c", description = "Create a namespace with labels.")
  static final class CreateCommand extends ConnectedCommand {

    @Parameters(index = "0", paramLabel = "NAME") String name;

    @Parameters(index = "1..*", paramLabel = "KEY=VALUE", arity = "0..*")
    List<String> labels = List.of();

    @Override
    void run(DaemonConnection connection) {
      connection.call(NamespacesGrpc.getCreateMethod(), CreateNamespaceRequest.newBuilder()
          .setNamespace(Namespace.newBuilder().setName(name)
              .putAllLabels(LabelArgs.parse(spec, labels)))
          .build());
    }
  }

  @Command(name = "label", description = "Set labels on a namespace; KEY= removes one.")
  static final class LabelCommand extends ConnectedCommand {

    @Parameters(index = "0", paramLabel = "NAME") String name;

    @Parameters(index = "1..*", paramLabel = "KEY=VALUE", arity = "1..*")
    List<String> labels = List.of();

    @Override
    void run(DaemonConnection connection) {
      Map<String, String> parsed = LabelArgs.parse(spec, labels);
      Namespace.Builder namespace = Namespace.newBuilder().setName(name);
      FieldMask.Builder mask = FieldMask.newBuilder();
      parsed.forEach((key, value) -> {
        mask.addPaths("labels." + key);
        if (!value.isEmpty()) {
          namespace.putLabels(key, value);
        }
      });
      connection.call(NamespacesGrpc.getUpdateMethod(), UpdateNamespaceRequest.newBuilder()
          .setNamespace(namespace).setUpdateMask(mask).build());
    }
  }

  @Command(name = "remove", aliases = {"rm", "delete", "del"},
      description = "Remove namespaces; refused while one still holds objects.")
  static final class RemoveCommand extends ConnectedCommand {

    @Parameters(paramLabel = "NAME", arity = "1..*") List<String> names;

    @Override
    void run(DaemonConnection connection) {
      for (String name : names) {
        connection.call(NamespacesGrpc.getDeleteMethod(), DeleteNamespaceRequest.newBuilder().setName(name).build());
        out().println(name);
      }
    }
  }
}
