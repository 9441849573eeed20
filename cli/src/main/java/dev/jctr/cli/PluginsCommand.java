package dev.jctr.cli;

import dev.jctr.api.proto.containerd.services.introspection.v1.IntrospectionGrpc;
import dev.jctr.api.proto.containerd.services.introspection.v1.Plugin;
import dev.jctr.api.proto.containerd.services.introspection.v1.PluginsRequest;
import dev.jctr.api.proto.containerd.types.Platform;
import java.io.PrintWriter;
import java.util.List;
import java.util.TreeSet;

/** {@code jctr plugins ls}: the daemon's plugins with TYPE, ID, PLATFORMS and STATUS. */
final class PluginsCommand {

  private PluginsCommand() {}

  static Command command() {
    return Command.named("plugins", "plugin")
        .describe("Provides information about jctrd plugins.")
        .subcommands(Command.named("list", "ls")
            .describe("List plugins: TYPE, ID, PLATFORMS, STATUS.")
            .option(Option.flag("print only the plugin URIs", "-q", "--quiet"))
            .option(Option.flag("print requires and errors too", "-d", "--detailed"))
            .positionals("FILTER", 0, Command.MANY,
                "filters, e.g. type==io.containerd.grpc.v1 (several: any may match)")
            .runs(PluginsCommand::list));
  }

  private static int list(Jctr root, Parsed args) {
    List<Plugin> plugins = root.call(IntrospectionGrpc.getPluginsMethod(),
        PluginsRequest.newBuilder().addAllFilters(args.positionals()).build()).getPluginsList();
    PrintWriter out = root.out();
    if (root.json()) {
      out.println(Json.array(plugins));
    } else if (args.flag("--quiet")) {
      plugins.forEach(p -> out.println(p.getType() + "." + p.getId()));
    } else if (args.flag("--detailed")) {
      for (Plugin plugin : plugins) {
        out.println("Type:      " + plugin.getType());
        out.println("ID:        " + plugin.getId());
        out.println("Requires:  " + String.join(", ", plugin.getRequiresList()));
        out.println("Platforms: " + platforms(plugin.getPlatformsList()));
        out.println("Status:    " + status(plugin));
        if (plugin.hasInitErr()) {
          out.println("Error:     " + plugin.getInitErr().getMessage());
        }
        out.println();
      }
    } else {
      Table table = new Table("TYPE", "ID", "PLATFORMS", "STATUS");
      plugins.forEach(p -> table.row(p.getType(), p.getId(), platforms(p.getPlatformsList()),
          status(p)));
      table.print(out);
    }
    return 0;
  }

  /** ctr's rule: ok without init error, skip when it says "skip plugin", else error. */
  static String status(Plugin plugin) {
    if (!plugin.hasInitErr()) {
      return "ok";
    }
    return plugin.getInitErr().getMessage().contains("skip plugin") ? "skip" : "error";
  }

  private static String platforms(List<Platform> platforms) {
    if (platforms.isEmpty()) {
      return "-";
    }
    TreeSet<String> names = new TreeSet<>();
    for (Platform p : platforms) {
      names.add(p.getOs() + "/" + p.getArchitecture()
          + (p.getVariant().isEmpty() ? "" : "/" + p.getVariant()));
    }
    return String.join(",", names);
  }
}
