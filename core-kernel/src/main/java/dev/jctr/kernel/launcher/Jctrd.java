package dev.jctr.kernel.launcher;

import dev.jctr.kernel.config.ConfigException;
import dev.jctr.kernel.config.ConfigFile;
import dev.jctr.kernel.config.DaemonConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jctrd}: the daemon's command line. Flags mirror containerd's. */
@Command(
    name = "jctrd",
    mixinStandardHelpOptions = true,
    versionProvider = Jctrd.Version.class,
    description = "jctr daemon: a containerd-compatible container platform on an OSGi kernel.",
    subcommands = {Jctrd.ConfigCommand.class})
public final class Jctrd implements Callable<Integer> {

  /** Where a system-wide config lives when {@code --config} is not given. */
  static final Path SYSTEM_CONFIG = Path.of("/etc/jctr/config.toml");

  @Option(names = {"-c", "--config"}, paramLabel = "FILE",
      description = "config file (default: /etc/jctr/config.toml if present, else embedded defaults)")
  Path config;

  @Option(names = "--root", paramLabel = "DIR", description = "persistent data directory")
  Path root;

  @Option(names = "--state", paramLabel = "DIR", description = "runtime state directory")
  Path state;

  @Option(names = {"-a", "--address"}, paramLabel = "SOCKET", description = "gRPC socket path")
  Path address;

  @Option(names = {"-l", "--log-level"}, paramLabel = "LEVEL",
      description = "trace, debug, info, warn or error")
  String logLevel;

  @Option(names = "--bundles", paramLabel = "DIR",
      description = "bundle folder to load and watch (default: the distribution's bundles/)")
  Path bundles;

  public static void main(String[] args) {
    int code = new CommandLine(new Jctrd()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  @Override
  public Integer call() throws Exception {
    Path configFile = config != null ? config
        : Files.isRegularFile(SYSTEM_CONFIG) ? SYSTEM_CONFIG : null;
    List<String> warnings = new ArrayList<>();
    DaemonConfig effective;
    try {
      effective = configFile == null ? ConfigFile.defaults() : ConfigFile.read(configFile, warnings);
    } catch (ConfigException e) {
      System.err.println("jctrd: " + e.getMessage());
      return 2;
    }
    if (root != null) {
      effective = effective.withRoot(root.toAbsolutePath());
    }
    if (state != null) {
      effective = effective.withState(state.toAbsolutePath());
    }
    if (address != null) {
      effective = effective.withGrpcAddress(address.toAbsolutePath());
    }
    if (logLevel != null) {
      effective = effective.withLogLevel(logLevel.toLowerCase());
    }
    LogSetup.configure(effective.logLevel(), System.err);
    var log = System.getLogger(Jctrd.class.getName());
    warnings.forEach(w -> log.log(System.Logger.Level.WARNING, w));

    Path bundleFolder = bundles != null ? bundles : Distribution.bundleFolder();
    try {
      new Daemon(effective, configFile, bundleFolder).run();
      return 0;
    } catch (SocketClaim.AlreadyServingException e) {
      System.err.println("jctrd: " + e.getMessage());
      return 1;
    } catch (IOException e) {
      System.err.println("jctrd: " + e.getMessage());
      return 1;
    }
  }

  /** {@code jctrd config default}: print the embedded default configuration. */
  @Command(name = "config", description = "Information on the daemon configuration.",
      subcommands = {ConfigCommand.DefaultCommand.class})
  static final class ConfigCommand {

    @Command(name = "default", description = "Print the default configuration.")
    static final class DefaultCommand implements Callable<Integer> {
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Override
      public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.print(ConfigFile.defaultText());
        out.flush();
        return 0;
      }
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"jctrd " + Distribution.version()};
    }
  }
}
