package dev.jctr.cli;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;

/**
 * {@code jctr}: the command line client. Global options are accepted before or after the
 * subcommand ({@code jctr -n k8s.io containers ls} and {@code jctr containers ls -n k8s.io}).
 * One run is one command: it holds the global options, the output, and the connection to
 * jctrd, opened at the first call and closed at the end.
 */
public final class Jctr {

  /** Output formats every listing command supports. */
  enum Format { table, json }

  static final Option ADDRESS = Option.value("SOCKET",
      "jctrd socket (env JCTR_ADDRESS)", "-a", "--address")
      .withDefault(env("JCTR_ADDRESS", "/run/jctr/jctrd.sock"));
  static final Option NAMESPACE = Option.value("NAME",
      "namespace (env JCTR_NAMESPACE)", "-n", "--namespace")
      .withDefault(env("JCTR_NAMESPACE", "default"));
  static final Option FORMAT = Option.value("FORMAT", "output format: table, json", "--format")
      .withDefault("table");
  static final Option TIMEOUT = Option.value("SECONDS", "deadline for each call to jctrd",
      "--timeout").withDefault("30");
  static final Option VERSION = Option.flag("print the client version", "-v", "--version");

  final Path address;
  final String namespace;
  final Format format;
  final long timeoutSeconds;
  private final PrintWriter out;
  private final PrintWriter err;
  private DaemonConnection connection;

  Jctr(Parsed args, PrintWriter out, PrintWriter err) {
    this.address = Path.of(args.value("--address"));
    this.namespace = args.value("--namespace");
    this.format = format(args);
    this.timeoutSeconds = timeout(args);
    this.out = out;
    this.err = err;
  }

  /** The whole command tree. */
  static Command commands() {
    return Command.named("jctr")
        .describe("Command line client for jctrd.")
        .option(ADDRESS).option(NAMESPACE).option(FORMAT).option(TIMEOUT).option(VERSION)
        .subcommands(VersionCommand.command(), PluginsCommand.command(),
            NamespacesCommand.command(), ImagesCommand.command(), ContainersCommand.command(),
            LeasesCommand.command(), GcCommand.command(),
            SnapshotsCommand.command(), ContentCommand.command(), EventsCommand.command(),
            RunCommand.command(), TasksCommand.command());
  }

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out), new PrintWriter(System.err, true)));
  }

  /** Runs one command line; the exit code is 0 on success, 1 on failure, 2 on misuse. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    Jctr root = null;
    try {
      Parsed parsed = Parsed.parse(commands(), args);
      Command command = parsed.command();
      if (parsed.help() || (command.action() == null && !parsed.flag("--version"))) {
        // like ctr: a group without its subcommand prints its help
        out.print(Help.of(command));
        return 0;
      }
      if (command.action() == null) {
        out.println("jctr version " + ClientVersion.version());
        return 0;
      }
      root = new Jctr(parsed, out, err);
      return command.action().run(root, parsed);
    } catch (UsageException e) {
      err.println("jctr: " + e.getMessage());
      err.println("Run '" + e.command().path() + " --help' for usage.");
      return 2;
    } catch (Exception e) {
      err.println("jctr: " + describe(e, root));
      return 1;
    } finally {
      out.flush();
      err.flush();
      if (root != null) {
        root.close();
      }
    }
  }

  String namespace() {
    return namespace;
  }

  PrintWriter out() {
    return out;
  }

  PrintWriter err() {
    return err;
  }

  boolean json() {
    return format == Format.json;
  }

  /** One unary call to jctrd in this run's namespace, within the deadline. */
  <Q, R> R call(MethodDescriptor<Q, R> method, Q request) {
    return connection().call(method, request);
  }

  /** {@link #call} whose new content and snapshots join lease {@code lease}. */
  <Q, R> R callInLease(MethodDescriptor<Q, R> method, Q request, String lease) {
    return connection().callInLease(method, request, lease);
  }

  /** A server stream that ends within the deadline, such as a listing in batches. */
  <Q, R> Iterator<R> listing(MethodDescriptor<Q, R> method, Q request) {
    return connection().listing(method, request);
  }

  /** A server stream from jctrd; it has no deadline. */
  <Q, R> Iterator<R> stream(MethodDescriptor<Q, R> method, Q request) {
    return connection().stream(method, request);
  }

  /** Requests streamed to jctrd (all sent first), then its responses; no deadline. */
  <Q, R> Iterator<R> upload(MethodDescriptor<Q, R> method, Iterator<Q> requests) {
    return connection().upload(method, requests);
  }

  /**
   * One unary call on a connection of its own, for a call made while this run's connection
   * carries a long one (a terminal's resize while Wait is pending).
   */
  <Q, R> R callAside(MethodDescriptor<Q, R> method, Q request) {
    DaemonConnection aside = DaemonConnection.open(address, namespace, timeoutSeconds);
    try {
      return aside.call(method, request);
    } finally {
      aside.close();
    }
  }

  private DaemonConnection connection() {
    if (connection == null) {
      connection = DaemonConnection.open(address, namespace, timeoutSeconds);
    }
    return connection;
  }

  private void close() {
    if (connection != null) {
      connection.close();
    }
  }

  private static Format format(Parsed args) {
    String value = args.value("--format");
    try {
      return Format.valueOf(value.toLowerCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UsageException(args.command(), "--format: \"" + value
          + "\" is not one of table, json");
    }
  }

  private static long timeout(Parsed args) {
    String value = args.value("--timeout");
    try {
      long seconds = Long.parseLong(value);
      if (seconds > 0) {
        return seconds;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(args.command(), "--timeout: \"" + value
        + "\" is not a positive number of seconds");
  }

  private static String env(String name, String otherwise) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? otherwise : value;
  }

  /** A failure as a user should read it: what failed, and what to do where we know. */
  private static String describe(Exception e, Jctr root) {
    if (e instanceof StatusRuntimeException s) {
      Status status = s.getStatus();
      if (status.getCode() == Status.Code.UNAVAILABLE && root != null) {
        return "cannot reach jctrd at " + root.address + ": " + status.getDescription()
            + " (is jctrd running? set --address or JCTR_ADDRESS)";
      }
      return status.getDescription() == null ? status.getCode().toString()
          : status.getDescription() + " (" + status.getCode() + ")";
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
