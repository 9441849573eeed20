package dev.jctr.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code jctr}: the command line client. Global options are accepted before or after the
 * subcommand ({@code jctr -n k8s.io containers ls} and {@code jctr containers ls -n k8s.io}).
 */
@Command(
    name = "jctr",
    mixinStandardHelpOptions = true,
    versionProvider = Jctr.Version.class,
    description = "Command line client for jctrd.")
public final class Jctr {

  /**
   * The subcommands. They are registered lazily: picocli builds a command's model by reflection,
   * which costs a one-shot JVM tens of milliseconds per command, so a run registers only the
   * subcommand it names, and all of them only for help or an unknown name.
   */
  static final List<Class<?>> SUBCOMMANDS = List.of(VersionCommand.class, PluginsCommand.class,
      NamespacesCommand.class, ContainersCommand.class, LeasesCommand.class,
      EventsCommand.class);

  /** Global options that take a value, so that their values are not taken for commands. */
  private static final Set<String> VALUED_OPTIONS =
      Set.of("-a", "--address", "-n", "--namespace", "--format", "--timeout");

  /** Output formats every listing command supports. */
  public enum Format { table, json }

  @Option(names = {"-a", "--address"}, scope = ScopeType.INHERIT, paramLabel = "SOCKET",
      defaultValue = "${env:JCTR_ADDRESS:-/run/jctr/jctrd.sock}",
      description = "jctrd socket (env JCTR_ADDRESS; default ${DEFAULT-VALUE})")
  Path address;

  @Option(names = {"-n", "--namespace"}, scope = ScopeType.INHERIT, paramLabel = "NAME",
      defaultValue = "${env:JCTR_NAMESPACE:-default}",
      description = "namespace (env JCTR_NAMESPACE; default ${DEFAULT-VALUE})")
  String namespace;

  @Option(names = "--format", scope = ScopeType.INHERIT, paramLabel = "FORMAT",
      defaultValue = "table", description = "output format: ${COMPLETION-CANDIDATES}")
  Format format;

  @Option(names = "--timeout", scope = ScopeType.INHERIT, paramLabel = "SECONDS",
      defaultValue = "30", description = "deadline for each call to jctrd")
  long timeoutSeconds;

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs one command line; the exit code is 0 on success. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine commandLine = commandLine(args)
        .setOut(out)
        .setErr(err)
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          cmd.getErr().println("jctr: " + describe(e, cmd.getCommand()));
          return 1;
        });
    return commandLine.execute(args);
  }

  /** The root command with the subcommand {@code args} name, or all when that is unclear. */
  static CommandLine commandLine(String[] args) {
    CommandLine root = new CommandLine(new Jctr());
    Class<?> named = named(args);
    for (Class<?> subcommand : named == null ? SUBCOMMANDS : List.of(named)) {
      root.addSubcommand(new CommandLine(subcommand));
    }
    return root;
  }

  private static Class<?> named(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (VALUED_OPTIONS.contains(arg)) {
        i++; // its value follows
      } else if (!arg.startsWith("-")) {
        for (Class<?> subcommand : SUBCOMMANDS) {
          Command command = subcommand.getAnnotation(Command.class);
          if (command.name().equals(arg) || Arrays.asList(command.aliases()).contains(arg)) {
            return subcommand;
          }
        }
        return null;
      }
    }
    return null;
  }

  DaemonConnection connect() {
    return DaemonConnection.open(address, namespace, timeoutSeconds);
  }

  /** A failure as a user should read it: what failed, and what to do where we know. */
  private static String describe(Exception e, Object command) {
    if (e instanceof StatusRuntimeException s) {
      Status status = s.getStatus();
      if (status.getCode() == Status.Code.UNAVAILABLE && command instanceof Connected c) {
        return "cannot reach jctrd at " + c.root().address + ": " + status.getDescription()
            + " (is jctrd running? set --address or JCTR_ADDRESS)";
      }
      return status.getDescription() == null ? status.getCode().toString()
          : status.getDescription() + " (" + status.getCode() + ")";
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  /** A subcommand that talks to jctrd through the root command's global options. */
  interface Connected {
    Jctr root();
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"jctr " + ClientVersion.version()};
    }
  }
}
