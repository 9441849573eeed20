package dev.jctr.api.mount;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Performs mounts on this host through mount(8) and umount(8), as root.
 *
 * <p>The kernel takes a mount's options in one page (4096 bytes). An overlay over a deep chain
 * of layers exceeds that with absolute paths, so when the options are long the layer paths are
 * rewritten relative to the directory they share and mount(8) runs in that directory, where the
 * kernel resolves them: {@code 12/fs:11/fs:...} fits hundreds of layers.
 */
public final class Mounts {

  /** Options at least this long are shortened (one page, less room for the rest). */
  static final int LONG_OPTIONS = 4096 - 512;

  private Mounts() {}

  /** Mounts {@code mounts} on {@code target} in order (later ones on top). */
  public static void mountAll(List<Mount> mounts, Path target) throws IOException {
    for (Mount mount : mounts) {
      mount(mount, target);
    }
  }

  public static void mount(Mount mount, Path target) throws IOException {
    List<String> options = new ArrayList<>();
    Path workingDir = null;
    for (String option : mount.options()) {
      if (option.equals("rbind") || option.equals("bind")) {
        continue; // given as flags below
      }
      options.add(option);
    }
    if (mount.type().equals("overlay") && String.join(",", options).length() >= LONG_OPTIONS) {
      workingDir = commonLayerDir(options);
      options = relativeTo(workingDir, options);
    }
    List<String> command = new ArrayList<>(List.of("mount"));
    if (mount.type().equals("bind")) {
      command.add(mount.options().contains("bind") ? "--bind" : "--rbind");
    } else {
      command.addAll(List.of("-t", mount.type()));
    }
    if (!options.isEmpty()) {
      command.addAll(List.of("-o", String.join(",", options)));
    }
    command.add(mount.source());
    command.add(target.toString());
    run(command, workingDir, "mount " + mount.type() + " on " + target);
    if (mount.type().equals("bind") && mount.options().contains("ro")) {
      // a bind mount takes ro only on a remount
      run(List.of("mount", "-o", "remount,bind,ro", target.toString()), null,
          "remount " + target + " read-only");
    }
  }

  /** Unmounts {@code target}, lazily when busy is not acceptable to wait for. */
  public static void unmount(Path target) throws IOException {
    run(List.of("umount", target.toString()), null, "unmount " + target);
  }

  /** The deepest directory all layer paths share, backed off to its parent like containerd. */
  static Path commonLayerDir(List<String> options) {
    Path common = null;
    for (Path dir : layerDirs(options)) {
      common = common == null ? dir : commonPrefix(common, dir);
    }
    if (common == null) {
      throw new IllegalArgumentException("overlay options name no layer directories");
    }
    return common;
  }

  private static List<Path> layerDirs(List<String> options) {
    List<Path> dirs = new ArrayList<>();
    for (String option : options) {
      int eq = option.indexOf('=');
      String key = eq < 0 ? option : option.substring(0, eq);
      if (key.equals("lowerdir") || key.equals("upperdir") || key.equals("workdir")) {
        for (String dir : option.substring(eq + 1).split(":")) {
          dirs.add(Path.of(dir).getParent()); // the layer's own directory: <root>/<id>
        }
      }
    }
    return dirs;
  }

  private static Path commonPrefix(Path a, Path b) {
    Path common = a.getRoot();
    int n = Math.min(a.getNameCount(), b.getNameCount());
    for (int i = 0; i < n && a.getName(i).equals(b.getName(i)); i++) {
      common = common.resolve(a.getName(i));
    }
    return common;
  }

  static List<String> relativeTo(Path dir, List<String> options) {
    List<String> relative = new ArrayList<>();
    for (String option : options) {
      int eq = option.indexOf('=');
      String key = eq < 0 ? option : option.substring(0, eq);
      if (key.equals("lowerdir") || key.equals("upperdir") || key.equals("workdir")) {
        List<String> parts = new ArrayList<>();
        for (String path : option.substring(eq + 1).split(":")) {
          parts.add(dir.relativize(Path.of(path)).toString());
        }
        relative.add(key + "=" + String.join(":", parts));
      } else {
        relative.add(option);
      }
    }
    return relative;
  }

  private static void run(List<String> command, Path workingDir, String what)
      throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    if (workingDir != null) {
      builder.directory(workingDir.toFile());
    }
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      int code = process.waitFor();
      if (code != 0) {
        throw new IOException(what + " failed (" + code + "): "
            + output.strip().replaceAll("\\s+", " "));
      }
    } catch (InterruptedException e) {
      process.destroy();
      Thread.currentThread().interrupt();
      throw new IOException(what + " interrupted", e);
    }
  }
}
