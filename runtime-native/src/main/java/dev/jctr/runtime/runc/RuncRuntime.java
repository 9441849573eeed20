package dev.jctr.runtime.runc;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.runtime.OciRuntime;
import dev.jctr.runtime.linux.NativeSpawn;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * runc or crun (same command line) with its state under {@code root} and its log as JSON lines
 * in {@code root/<id>.log}, so that a failure reports the runtime's own message rather than
 * its exit code. Detached containers get /dev/null for stdio: a pipe handed to runc would be
 * inherited by the container and never reach end of file.
 */
public final class RuncRuntime implements OciRuntime {

  private static final long TIMEOUT_SECONDS = 60;

  private final String binary;
  private final Path root;

  public RuncRuntime(String binary, Path root) {
    this.binary = binary;
    this.root = root;
  }

  @Override
  public void create(String id, Path bundle, Path pidFile) {
    run(id, NO_STDIO, "create", "--bundle", bundle.toString(), "--pid-file", pidFile.toString(),
        id);
  }

  /**
   * Files the container's process gets as stdin, stdout and stderr (null: /dev/null). They
   * are opened here and inherited by runc and so by the container: a fifo passed this way
   * carries the process's output with no copying, and reaches end of file when it exits.
   */
  public record Stdio(File stdin, File stdout, File stderr) {}

  private static final Stdio NO_STDIO = new Stdio(null, null, null);

  /** create with the process's stdio, and a console socket when it has a terminal. */
  public void create(String id, Path bundle, Path pidFile, Stdio stdio, Path consoleSocket) {
    List<String> command = new ArrayList<>(List.of("create", "--bundle", bundle.toString(),
        "--pid-file", pidFile.toString()));
    if (consoleSocket != null) {
      command.addAll(List.of("--console-socket", consoleSocket.toString()));
    }
    command.add(id);
    run(id, stdio, command.toArray(String[]::new));
  }

  /** exec --detach of the process described by {@code processJson} (an OCI process). */
  public void exec(String id, Path processJson, Path pidFile, Stdio stdio, Path consoleSocket) {
    List<String> command = new ArrayList<>(List.of("exec", "--detach", "--process",
        processJson.toString(), "--pid-file", pidFile.toString()));
    if (consoleSocket != null) {
      command.addAll(List.of("--console-socket", consoleSocket.toString()));
    }
    command.add(id);
    run(id, stdio, command.toArray(String[]::new));
  }

  /** update from an OCI LinuxResources JSON file. */
  public void update(String id, Path resourcesJson) {
    run(id, "update", "--resources", resourcesJson.toString(), id);
  }

  /** One {@code events --stats} sample: runc's JSON ({"type":"stats","data":{...}}). */
  public String stats(String id) {
    return output(id, "events", "--stats", id);
  }

  @Override
  public void start(String id) {
    run(id, "start", id);
  }

  @Override
  public State state(String id) {
    JsonObject state = JsonParser.parseString(output(id, "state", id)).getAsJsonObject();
    return new State(state.get("id").getAsString(), state.get("status").getAsString(),
        state.get("pid").getAsInt(), Path.of(state.get("bundle").getAsString()));
  }

  @Override
  public void kill(String id, int signal, boolean all) {
    if (all) {
      run(id, "kill", "--all", id, Integer.toString(signal));
    } else {
      run(id, "kill", id, Integer.toString(signal));
    }
  }

  /** Deletes the container, and with it its log (a failed delete keeps it to be read). */
  @Override
  public void delete(String id, boolean force) {
    if (force) {
      run(id, "delete", "--force", id);
    } else {
      run(id, "delete", id);
    }
    try {
      Files.deleteIfExists(root.resolve(id + ".log"));
    } catch (IOException e) {
      // the container is gone, which is what the caller asked: a stray log does not undo that
    }
  }

  @Override
  public List<Integer> ps(String id) {
    JsonElement parsed = JsonParser.parseString(output(id, "ps", "--format", "json", id));
    List<Integer> pids = new ArrayList<>();
    if (parsed.isJsonArray()) {
      for (JsonElement pid : (JsonArray) parsed) {
        pids.add(pid.getAsInt());
      }
    }
    return pids;
  }

  @Override
  public void pause(String id) {
    run(id, "pause", id);
  }

  @Override
  public void resume(String id) {
    run(id, "resume", id);
  }

  private void run(String id, String... command) {
    run(id, NO_STDIO, false, command);
  }

  private void run(String id, Stdio stdio, String... command) {
    run(id, stdio, false, command);
  }

  /** Runs a command whose standard output is its answer (state, ps, events). */
  private String output(String id, String... command) {
    return run(id, NO_STDIO, true, command);
  }

  /**
   * Runs one command; returns its standard output when {@code answers}, else "" (its output
   * goes to /dev/null: no file to make and remove per call on the container's critical path).
   */
  private String run(String id, Stdio stdio, boolean answers, String... command) {
    Path log = root.resolve(id + ".log");
    List<String> line = new ArrayList<>(List.of(binary, "--root", root.toString(), "--log",
        log.toString(), "--log-format", "json"));
    line.addAll(List.of(command));
    try {
      Files.createDirectories(root);
      long logged = Files.exists(log) ? Files.size(log) : 0;
      Path out = answers ? Files.createTempFile(root, "out-", ".json") : null;
      try {
        // stdio for the container: its output fifos; runc's own output goes to a file (or
        // nowhere) and its errors to the JSON log, so that neither mixes with the container's
        boolean forContainer = stdio.stdout() != null || stdio.stderr() != null;
        int exit = NativeSpawn.run(line, new NativeSpawn.Stdio(path(stdio.stdin()),
            stdio.stdout() != null ? stdio.stdout().toPath() : out,
            stdio.stderr() != null ? stdio.stderr().toPath() : forContainer ? null : log, true),
            TIMEOUT_SECONDS);
        if (exit != 0) {
          throw failure(id, command[0], lastError(log, logged), exit);
        }
        return out == null ? "" : Files.readString(out, StandardCharsets.UTF_8);
      } finally {
        if (out != null) {
          Files.deleteIfExists(out);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(binary + " " + command[0] + " " + id + ": "
          + e.getMessage(), e);
    }
  }

  private static Path path(File file) {
    return file == null ? null : file.toPath();
  }

  private RuntimeException failure(String id, String command, String message, int exit) {
    String text = binary + " " + command + " " + id + ": "
        + (message.isEmpty() ? "exit status " + exit : message);
    if (isNotFound(id, message)) {
      return new NotFoundException("container \"" + id + "\" (" + text + ")");
    }
    return new FailedPreconditionException(text);
  }

  /**
   * runc says the container does not exist; crun names the state it cannot open under the
   * root ("error opening file `ROOT/ID/status`: No such file or directory").
   */
  private boolean isNotFound(String id, String message) {
    return message.contains("not exist") || message.contains("container not found")
        || (message.contains(root.resolve(id).toString())
            && message.endsWith("No such file or directory"));
  }

  /** The message of the last error the runtime logged (JSON lines) after {@code from}, or "". */
  static String lastError(Path log, long from) throws IOException {
    if (!Files.exists(log)) {
      return "";
    }
    byte[] bytes = Files.readAllBytes(log);
    String text = new String(bytes, (int) Math.min(from, bytes.length),
        (int) Math.max(0, bytes.length - from), StandardCharsets.UTF_8);
    String found = "";
    for (String line : text.split("\n")) {
      if (!line.startsWith("{")) {
        if (!line.isBlank()) {
          found = line.strip(); // plain text on stderr
        }
        continue;
      }
      try {
        JsonObject entry = JsonParser.parseString(line).getAsJsonObject();
        if (entry.has("level") && entry.get("level").getAsString().equals("error")
            && entry.has("msg")) {
          found = entry.get("msg").getAsString();
        }
      } catch (RuntimeException e) {
        // not a JSON line after all
      }
    }
    return found;
  }
}
