package dev.jctr.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
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
    description = "Command line client for jctrd.",
    subcommands = {VersionCommand.class, PluginsCommand.class, NamespacesCommand.class,
        ContainersCommand.class, LeasesCommand.class, EventsCommand.class})
public final class Jctr {

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

  /** Held strongly: java.util.logging forgets a logger's level once nobody references it. */
  private static final java.util.logging.Logger NETTY_BOOTSTRAP =
      java.util.logging.Logger.getLogger("io.netty.bootstrap");

  public static void main(String[] args) {
    // Netty warns that SO_KEEPALIVE does not apply to unix sockets; that is noise to a user.
    NETTY_BOOTSTRAP.setLevel(java.util.logging.Level.SEVERE);
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs one command line; the exit code is 0 on success. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine commandLine = new CommandLine(new Jctr())
        .setOut(out)
        .setErr(err)
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          cmd.getErr().println("jctr: " + describe(e, cmd.getCommand()));
          return 1;
        });
    return commandLine.execute(args);
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
