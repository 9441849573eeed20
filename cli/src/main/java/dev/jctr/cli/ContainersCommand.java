package dev.jctr.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.FieldMask;
import dev.jctr.api.proto.containerd.runc.options.Options;
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
import java.util.List;
import java.util.Map;

/** {@code jctr containers}: container metadata in the current namespace. */
final class ContainersCommand {

  /** The runtime ctr and the kubelet use when none is named. */
  static final String DEFAULT_RUNTIME = "io.containerd.runc.v2";

  /** ctr's option: the OCI runtime binary (crun, a runc elsewhere) the shim is to run. */
  static final Option RUNC_BINARY = Option.value("NAME",
      "OCI runtime binary for the shim, e.g. crun (default: the shim's runc)", "--runc-binary")
      .withDefault("");

  private ContainersCommand() {}

  static Command command() {
    return Command.named("containers", "container", "c")
        .describe("Manage container metadata in a namespace.")
        .subcommands(
            Command.named("list", "ls").describe("List containers: CONTAINER, IMAGE, RUNTIME.")
                .option(Option.flag("print only the ids", "-q", "--quiet"))
                .positionals("FILTER", 0, Command.MANY,
                    "filters, e.g. labels.owner==kubelet or image~=^busybox (any may match)")
                .runs(ContainersCommand::list),
            Command.named("info").describe("Print a container as JSON, its OCI spec decoded.")
                .positional("ID", "the container")
                .runs(ContainersCommand::info),
            Command.named("create").describe("Create container metadata (no task is started).")
                .option(Option.value("REF", "image reference", "--image").withDefault(""))
                .option(Option.value("NAME", "runtime", "--runtime")
                    .withDefault(DEFAULT_RUNTIME))
                .option(RUNC_BINARY)
                .option(Option.value("NAME", "snapshotter", "--snapshotter").withDefault(""))
                .option(Option.value("KEY", "snapshot key", "--snapshot-key").withDefault(""))
                .option(Option.value("KEY=VALUE", "a label; repeatable", "--label"))
                .option(Option.value("ARG,...", "process arguments for the spec", "--args")
                    .withDefault("sh"))
                .positional("ID", "the container")
                .runs(ContainersCommand::create),
            Command.named("label").describe("Set labels on a container; KEY= removes one.")
                .positional("ID", "the container")
                .positionals("KEY=VALUE", 1, Command.MANY, "labels to set or remove")
                .runs(ContainersCommand::label),
            Command.named("delete", "rm", "del", "remove")
                .describe("Delete container metadata.")
                .positionals("ID", 1, Command.MANY, "the containers")
                .runs(ContainersCommand::remove));
  }

  private static int list(Jctr root, Parsed args) {
    List<Container> containers = root.call(ContainersGrpc.getListMethod(),
        ListContainersRequest.newBuilder().addAllFilters(args.positionals()).build())
        .getContainersList();
    if (root.json()) {
      JsonArray array = new JsonArray();
      containers.forEach(c -> array.add(toJson(c)));
      root.out().println(array);
    } else if (args.flag("--quiet")) {
      containers.forEach(c -> root.out().println(c.getId()));
    } else {
      root.out().print(table(containers));
    }
    return 0;
  }

  private static int info(Jctr root, Parsed args) {
    Container container = root.call(ContainersGrpc.getGetMethod(),
        GetContainerRequest.newBuilder().setId(args.positional(0)).build()).getContainer();
    root.out().println(new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create()
        .toJson(toJson(container)));
    return 0;
  }

  private static int create(Jctr root, Parsed args) {
    Container.Builder container = Container.newBuilder()
        .setId(args.positional(0))
        .setImage(args.value("--image"))
        .setSnapshotter(args.value("--snapshotter"))
        .setSnapshotKey(args.value("--snapshot-key"))
        .putAllLabels(LabelArgs.parse(args.command(), args.values("--label")))
        .setSpec(minimalSpec(List.of(args.value("--args").split(","))));
    container.setRuntime(runtime(args));
    Container created = root.call(ContainersGrpc.getCreateMethod(),
        CreateContainerRequest.newBuilder().setContainer(container).build()).getContainer();
    root.out().println(created.getId());
    return 0;
  }

  /**
   * The runtime {@code --runtime} names, with {@code --runc-binary} as the runc options
   * ({@code containerd.runc.v1.Options}) that both the runc shim and jctr's read.
   */
  static Container.Runtime runtime(Parsed args) {
    Container.Runtime.Builder runtime = Container.Runtime.newBuilder()
        .setName(args.value("--runtime"));
    String binary = args.value("--runc-binary");
    if (!binary.isEmpty()) {
      runtime.setOptions(TypeUrls.pack(Options.newBuilder().setBinaryName(binary).build()));
    }
    return runtime.build();
  }

  private static int label(Jctr root, Parsed args) {
    Map<String, String> labels = LabelArgs.parse(args.command(), args.positionalsFrom(1));
    Container.Builder container = Container.newBuilder().setId(args.positional(0));
    FieldMask.Builder mask = FieldMask.newBuilder();
    labels.forEach((key, value) -> {
      mask.addPaths("labels." + key);
      if (!value.isEmpty()) {
        container.putLabels(key, value);
      }
    });
    root.call(ContainersGrpc.getUpdateMethod(), UpdateContainerRequest.newBuilder()
        .setContainer(container).setUpdateMask(mask).build());
    return 0;
  }

  private static int remove(Jctr root, Parsed args) {
    for (String id : args.positionals()) {
      root.call(ContainersGrpc.getDeleteMethod(),
          DeleteContainerRequest.newBuilder().setId(id).build());
    }
    return 0;
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
}
