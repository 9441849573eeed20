package dev.jctr.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.FieldMask;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.DeleteContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.GetContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.UpdateContainerRequest;
import dev.jctr.api.typeurl.TypeUrls;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jctr containers}: container metadata in the current namespace. */
@Command(name = "containers", aliases = {"container", "c"},
    description = "Manage container metadata in a namespace.",
    subcommands = {ContainersCommand.ListCommand.class, ContainersCommand.InfoCommand.class,
        ContainersCommand.CreateCommand.class, ContainersCommand.LabelCommand.class,
        ContainersCommand.RemoveCommand.class})
final class ContainersCommand {

  /** The runtime ctr and the kubelet use when none is named. */
  static final String DEFAULT_RUNTIME = "io.containerd.runc.v2";

  @Command(name = "list", aliases = "ls", description = "List containers: CONTAINER, IMAGE, RUNTIME.")
  static final class ListCommand extends ConnectedCommand {

    @Option(names = {"-q", "--quiet"}, description = "print only the ids")
    boolean quiet;

    @Parameters(paramLabel = "FILTER", arity = "0..*",
        description = "filters, e.g. labels.owner==kubelet or image~=^busybox (any may match)")
    List<String> filters = List.of();

    @Override
    void run(DaemonConnection connection) {
      List<Container> containers = connection
          .call(ContainersGrpc.getListMethod(), ListContainersRequest.newBuilder().addAllFilters(filters).build())
          .getContainersList();
      print(containers);
    }

    void print(List<Container> containers) {
      if (json()) {
        JsonArray array = new JsonArray();
        containers.forEach(c -> array.add(toJson(c)));
        out().println(array);
      } else if (quiet) {
        containers.forEach(c -> out().println(c.getId()));
      } else {
        out().print(table(containers));
      }
    }
  }

  /** The list as ctr prints it; an empty image shows as {@code -}. */
  static String table(List<Container> containers) {
    StringWriter text = new StringWriter();
    Table table = new Table("CONTAINER", "IMAGE", "RUNTIME");
    for (Container c : containers) {
      table.row(c.getId(), c.getImage().isEmpty() ? "-" : c.getImage(),
          c.getRuntime().getName());
    }
    table.print(new PrintWriter(text));
    return text.toString();
  }

  @Command(name = "info", description = "Print a container as JSON, its OCI spec decoded.")
  static final class InfoCommand extends ConnectedCommand {

    @Parameters(paramLabel = "ID") String id;

    @Override
    void run(DaemonConnection connection) {
      Container container = connection
          .call(ContainersGrpc.getGetMethod(), GetContainerRequest.newBuilder().setId(id).build()).getContainer();
      out().println(new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create()
          .toJson(toJson(container)));
    }
  }

  /**
   * A container as JSON. Any fields whose types this client cannot know are shown by type URL;
   * an OCI spec, which is JSON already, is shown as itself.
   */
  static JsonObject toJson(Container container) {
    Container.Builder plain = container.toBuilder().clearSpec().clearExtensions();
    if (plain.getRuntime().hasOptions()) {
      plain.getRuntimeBuilder().clearOptions();
    }
    JsonObject json = JsonParser.parseString(Json.of(plain)).getAsJsonObject();
    if (container.getRuntime().hasOptions()) {
      json.getAsJsonObject("runtime").add("options",
          typeOnly(container.getRuntime().getOptions()));
    }
    if (container.hasSpec()) {
      Any spec = container.getSpec();
      json.add("spec", TypeUrls.OCI_SPEC.equals(spec.getTypeUrl())
          ? JsonParser.parseString(spec.getValue().toString(StandardCharsets.UTF_8))
          : typeOnly(spec));
    }
    if (container.getExtensionsCount() > 0) {
      JsonObject extensions = new JsonObject();
      container.getExtensionsMap().forEach((k, v) -> extensions.add(k, typeOnly(v)));
      json.add("extensions", extensions);
    }
    return json;
  }

  private static JsonObject typeOnly(Any any) {
    JsonObject json = new JsonObject();
    json.addProperty("@type", any.getTypeUrl());
    json.addProperty("size", any.getValue().size());
    return json;
  }

  @Command(name = "create", description = "Create container metadata (no task is started).")
  static final class CreateCommand extends ConnectedCommand {

    @Option(names = "--image", paramLabel = "REF", description = "image reference")
    String image = "";

    @Option(names = "--runtime", paramLabel = "NAME",
        description = "runtime (default ${DEFAULT-VALUE})")
    String runtime = DEFAULT_RUNTIME;

    @Option(names = "--snapshotter", paramLabel = "NAME") String snapshotter = "";

    @Option(names = "--snapshot-key", paramLabel = "KEY") String snapshotKey = "";

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "a label; repeatable")
    List<String> labels = new ArrayList<>();

    @Option(names = "--args", paramLabel = "ARG", split = ",",
        description = "process arguments for the spec (default sh)")
    List<String> args = List.of("sh");

    @Parameters(paramLabel = "ID") String id;

    @Override
    void run(DaemonConnection connection) {
      Container.Builder container = Container.newBuilder()
          .setId(id)
          .setImage(image)
          .setSnapshotter(snapshotter)
          .setSnapshotKey(snapshotKey)
          .putAllLabels(LabelArgs.parse(spec, labels))
          .setSpec(minimalSpec(args));
      container.getRuntimeBuilder().setName(runtime);
      Container created = connection.call(ContainersGrpc.getCreateMethod(),
          CreateContainerRequest.newBuilder().setContainer(container).build()).getContainer();
      out().println(created.getId());
    }
  }

  /** The smallest OCI spec a runtime would accept, as containerd stores specs: JSON. */
  static Any minimalSpec(List<String> args) {
    JsonObject spec = new JsonObject();
    spec.addProperty("ociVersion", "1.1.0");
    JsonObject process = new JsonObject();
    JsonArray argv = new JsonArray();
    args.forEach(argv::add);
    process.add("args", argv);
    process.addProperty("cwd", "/");
    spec.add("process", process);
    JsonObject root = new JsonObject();
    root.addProperty("path", "rootfs");
    spec.add("root", root);
    return Any.newBuilder().setTypeUrl(TypeUrls.OCI_SPEC)
        .setValue(ByteString.copyFromUtf8(spec.toString())).build();
  }

  @Command(name = "label", description = "Set labels on a container; KEY= removes one.")
  static final class LabelCommand extends ConnectedCommand {

    @Parameters(index = "0", paramLabel = "ID") String id;

    @Parameters(index = "1..*", paramLabel = "KEY=VALUE", arity = "1..*")
    List<String> labels = List.of();

    @Override
    void run(DaemonConnection connection) {
      Map<String, String> parsed = LabelArgs.parse(spec, labels);
      Container.Builder container = Container.newBuilder().setId(id);
      FieldMask.Builder mask = FieldMask.newBuilder();
      parsed.forEach((key, value) -> {
        mask.addPaths("labels." + key);
        if (!value.isEmpty()) {
          container.putLabels(key, value);
        }
      });
      connection.call(ContainersGrpc.getUpdateMethod(), UpdateContainerRequest.newBuilder()
          .setContainer(container).setUpdateMask(mask).build());
    }
  }

  @Command(name = "delete", aliases = {"rm", "del", "remove"},
      description = "Delete container metadata.")
  static final class RemoveCommand extends ConnectedCommand {

    @Parameters(paramLabel = "ID", arity = "1..*") List<String> ids;

    @Override
    void run(DaemonConnection connection) {
      for (String id : ids) {
        connection.call(ContainersGrpc.getDeleteMethod(), DeleteContainerRequest.newBuilder().setId(id).build());
      }
    }
  }
}
