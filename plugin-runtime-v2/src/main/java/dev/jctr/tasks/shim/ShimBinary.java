package dev.jctr.tasks.shim;

import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.proto.containerd.task.v2.DeleteResponse;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A runtime v2 shim executable and its command contract: {@code start} (run in the bundle,
 * prints the address of a daemonized shim) and {@code delete} (cleans up after a dead one,
 * prints a DeleteResponse). The shim's log goes to a fifo {@code <bundle>/log} that the caller
 * creates and keeps reading, as containerd does: a shim whose log nobody reads blocks.
 */
public final class ShimBinary {

  private static final Logger LOG = System.getLogger(ShimBinary.class.getName());
  private static final long COMMAND_SECONDS = 30;

  /**
   * How the shim reaches the daemon (its gRPC and ttrpc sockets) and where the daemon keeps
   * runtime state ({@code JCTR_SHIM_RUN}, jctr's shim's sockets, is under it).
   */
  public record DaemonAddresses(Path grpc, Path ttrpc, Path state) {}

  private final String runtime;
  private final Path binary;

  public ShimBinary(String runtime, Path binary) {
    this.runtime = runtime;
    this.binary = binary;
  }

  public String runtime() {
    return runtime;
  }

  public Path binary() {
    return binary;
  }

  /**
   * The binary for {@code runtime}: an absolute path as given, else containerd's rule
   * ({@code io.containerd.runc.v2} is {@code containerd-shim-runc-v2}) looked up in
   * {@code searchPath} in order.
   *
   * @throws NotFoundException naming the binary and where it was looked for
   */
  public static ShimBinary resolve(String runtime, String configured, List<Path> searchPath) {
    if (configured != null && !configured.isEmpty()) {
      Path path = Path.of(configured);
      if (path.isAbsolute()) {
        if (!Files.isExecutable(path)) {
          throw new NotFoundException("runtime \"" + runtime + "\": shim binary " + path
              + " does not exist or is not executable; fix binary_name in config.toml");
        }
        return new ShimBinary(runtime, path);
      }
      return search(runtime, configured, searchPath);
    }
    if (runtime.startsWith("/")) {
      return resolve(runtime, runtime, searchPath);
    }
    String[] parts = runtime.split("\\.");
    if (parts.length < 3 || !runtime.matches("[A-Za-z0-9._-]+")) {
      throw new dev.jctr.api.errors.InvalidArgumentException("runtime \"" + runtime
          + "\" is not a runtime name like io.containerd.runc.v2");
    }
    String name = "containerd-shim-" + parts[parts.length - 2] + "-" + parts[parts.length - 1];
    return search(runtime, name, searchPath);
  }

  private static ShimBinary search(String runtime, String name, List<Path> searchPath) {
    for (Path dir : searchPath) {
      Path candidate = dir.resolve(name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return new ShimBinary(runtime, candidate);
      }
    }
    throw new NotFoundException("runtime \"" + runtime + "\": shim binary " + name
        + " not installed (looked in " + searchPath + "); install it or set binary_name under"
        + " [plugins.\"io.containerd.runtime.v2.task\".runtimes.\"" + runtime + "\"]");
  }

  /**
   * Runs {@code start} in {@code bundle} and returns the address it printed. The log fifo is
   * created first and read by a thread of its own until the shim closes it.
   */
  public String start(String namespace, String id, Path bundle, DaemonAddresses daemon) {
    Path log = bundle.resolve("log");
    makeFifo(log);
    startRelay(namespace, id, log);
    Result result = run(namespace, id, bundle, daemon, "start");
    if (result.exit() != 0) {
      throw new FailedPreconditionException("runtime \"" + runtime + "\": " + binary
          + " start for " + namespace + "/" + id + " failed (exit " + result.exit() + "): "
          + result.text().strip());
    }
    String printed = result.text().strip();
    if (printed.startsWith("{")) { // the bootstrap JSON of newer shims
      var json = com.google.gson.JsonParser.parseString(printed).getAsJsonObject();
      printed = json.get("address").getAsString();
    }
    return printed;
  }

  /**
   * Starts the shim of {@code group} (jctr's shim: "pods/N") before its first task and returns
   * its address; an already running one just answers with it.
   */
  public String prestart(String namespace, String group, DaemonAddresses daemon) {
    Result result = run(namespace, "prestart", daemon.state(), daemon, "prestart",
        List.of("-group", group));
    if (result.exit() != 0) {
      throw new FailedPreconditionException("runtime \"" + runtime + "\": " + binary
          + " prestart of " + namespace + "/" + group + " failed (exit " + result.exit()
          + "): " + result.text().strip());
    }
    return result.text().strip();
  }

  /** Runs {@code delete} for a shim that is gone; returns what it reports of the task. */
  public DeleteResponse delete(String namespace, String id, Path bundle, DaemonAddresses daemon) {
    Result result = run(namespace, id, bundle, daemon, "delete");
    if (result.exit() != 0) {
      throw new FailedPreconditionException("runtime \"" + runtime + "\": " + binary
          + " delete for " + namespace + "/" + id + " failed (exit " + result.exit() + ")");
    }
    try {
      return DeleteResponse.parseFrom(result.output());
    } catch (IOException e) {
      return DeleteResponse.getDefaultInstance();
    }
  }

  private record Result(int exit, byte[] output, String text) {}

  private Result run(String namespace, String id, Path bundle, DaemonAddresses daemon,
      String action) {
    return run(namespace, id, bundle, daemon, action,
        action.equals("delete") ? List.of("-bundle", bundle.toString()) : List.of());
  }

  private Result run(String namespace, String id, Path bundle, DaemonAddresses daemon,
      String action, List<String> flags) {
    List<String> command = new ArrayList<>(List.of(binary.toString(), "-namespace", namespace,
        "-address", daemon.grpc().toString(), "-publish-binary", "/bin/true", "-id", id));
    command.addAll(flags);
    command.add(action);
    try {
      Path out = Files.createTempFile(bundle, ".shim-", ".out");
      Path err = Files.createTempFile(bundle, ".shim-", ".err");
      try {
        ProcessBuilder builder = new ProcessBuilder(command).directory(bundle.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(out.toFile()).redirectError(err.toFile());
        Map<String, String> env = builder.environment();
        env.put("TTRPC_ADDRESS", daemon.ttrpc().toString());
        env.put("GRPC_ADDRESS", daemon.grpc().toString());
        env.put("NAMESPACE", namespace);
        env.putIfAbsent("JCTR_SHIM_RUN", daemon.state().resolve("s").toString());
        Process process = builder.start();
        if (!process.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new FailedPreconditionException(binary + " " + action + " for " + namespace
              + "/" + id + " did not finish within " + COMMAND_SECONDS + " s");
        }
        byte[] output = Files.readAllBytes(out);
        String text = new String(output, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
          text = text + Files.readString(err);
        }
        return new Result(process.exitValue(), output, text);
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(binary + " " + action + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FailedPreconditionException(binary + " " + action + ": interrupted");
    }
  }

  /** Re-attaches the log reader of a shim found again after a daemon restart. */
  public static void relayExistingLog(String namespace, String id, Path bundle) {
    Path log = bundle.resolve("log");
    if (Files.exists(log)) {
      startRelay(namespace, id, log);
    }
  }

  // A platform thread: reading a fifo pins a virtual thread's carrier, and with a carrier per
  // core a few idle shims would stall every gRPC call.
  private static void startRelay(String namespace, String id, Path log) {
    Thread.ofPlatform().daemon().stackSize(256 * 1024).name("shim-log-" + id)
        .start(() -> relayLog(namespace, id, log));
  }

  private static void relayLog(String namespace, String id, Path log) {
    try (InputStream in = Files.newInputStream(log)) {
      var reader = new java.io.BufferedReader(new java.io.InputStreamReader(in,
          StandardCharsets.UTF_8));
      String line;
      while ((line = reader.readLine()) != null) {
        LOG.log(Level.DEBUG, "shim {0}/{1}: {2}", namespace, id, line);
      }
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "shim {0}/{1} log closed: {2}", namespace, id, e.getMessage());
    }
  }

  static void makeFifo(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new UncheckedIOException("mkfifo " + path + ": " + e.getMessage(), e);
    }
    Commands.run(List.of("mkfifo", "-m", "0600", path.toString()));
  }
}
