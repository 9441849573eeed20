package dev.jctr.cli;

import dev.jctr.api.proto.containerd.services.introspection.v1.IntrospectionGrpc;
import dev.jctr.api.proto.containerd.services.introspection.v1.Plugin;
import dev.jctr.api.proto.containerd.services.introspection.v1.PluginsRequest;
import dev.jctr.api.proto.containerd.types.Platform;
import java.io.PrintWriter;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jctr plugins ls}: the daemon's plugins with TYPE, ID, PLATFORMS and STATUS. */
@Command(name = "plugins", aliases = "plugin", description = "Provides information about jctrd plugins.",
    subcommands = PluginsCommand.ListCommand.class)
final class PluginsCommand {

  @ParentCommand Jctr root;

  @Command(name = "list", aliases = "ls", description = "List plugins: TYPE, ID, PLATFORMS, STATUS.")
  static final class ListCommand implements Callable<Integer>, Jctr.Connected {

    @ParentCommand PluginsCommand parent;
    @Spec CommandSpec spec;

    @Option(names = {"-q", "--quiet"}, description = "print only the plugin URIs")
    boolean quiet;

    @Option(names = {"-d", "--detailed"}, description = "print requires and errors too")
    boolean detailed;

    @Parameters(paramLabel = "FILTER", arity = "0..*",
        description = "filters, e.g. type==io.containerd.grpc.v1 (several: any may match)")
    List<String> filters = List.of();

    @Override
    public Jctr root() {
      return parent.root;
    }

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      try (DaemonConnection connection = root().connect()) {
        List<Plugin> plugins = connection.call(IntrospectionGrpc.getPluginsMethod(),
                PluginsRequest.newBuilder().addAllFilters(filters).build())
            .getPluginsList();
        print(plugins, out);
        return 0;
      }
    }

    private void print(List<Plugin> plugins, PrintWriter out) {
      if (root().format == Jctr.Format.json) {
        out.println(Json.array(plugins));
      } else if (quiet) {
        plugins.forEach(p -> out.println(p.getType() + "." + p.getId()));
      } else if (detailed) {
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
      out.flush();
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
}
