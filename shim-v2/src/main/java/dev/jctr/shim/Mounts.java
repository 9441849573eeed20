package dev.jctr.shim;

import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.proto.containerd.types.Mount;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Mounts a task's rootfs (the snapshot's mounts, in order) onto the bundle's rootfs and takes
 * it down again, with mount(8): it knows every filesystem type and option spelling the
 * snapshotters use (overlay, bind, rbind, ro).
 */
final class Mounts {

  private Mounts() {}

  static void mountAll(List<Mount> mounts, Path target) throws IOException {
    List<Mount> done = new ArrayList<>();
    try {
      for (Mount mount : mounts) {
        if (!mount.getTarget().isEmpty()) {
          throw new InvalidArgumentException("rootfs mount with a target ("
              + mount.getTarget() + ") is not supported");
        }
        List<String> command = new ArrayList<>(List.of("mount"));
        List<String> options = new ArrayList<>(mount.getOptionsList());
        String type = mount.getType();
        if (type.equals("bind") || type.equals("rbind")) {
          if (!options.contains("bind") && !options.contains("rbind")) {
            options.add(0, type);
          }
        } else if (!type.isEmpty()) {
          command.addAll(List.of("-t", type));
        }
        if (!options.isEmpty()) {
          command.addAll(List.of("-o", String.join(",", options)));
        }
        command.addAll(List.of(mount.getSource().isEmpty() ? type : mount.getSource(),
            target.toString()));
        run(command);
        done.add(mount);
      }
    } catch (IOException | RuntimeException e) {
      if (!done.isEmpty()) {
        unmount(target);
      }
      throw e;
    }
  }

  /** Unmounts everything at {@code target}, the last mount first. */
  static void unmount(Path target) throws IOException {
    for (int i = 0; i < 8 && mounted(target); i++) {
      run(List.of("umount", target.toString()));
    }
  }

  static boolean mounted(Path target) throws IOException {
    String point = target.toString().replace(" ", "\\040");
    for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
      String[] fields = line.split(" ");
      if (fields.length > 1 && fields[1].equals(point)) {
        return true;
      }
    }
    return false;
  }

  private static void run(List<String> command) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (process.waitFor() != 0) {
        throw new FailedPreconditionException(String.join(" ", command.subList(0, 1)) + " "
            + command.get(command.size() - 1) + ": " + output.strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FailedPreconditionException(command.get(0) + ": interrupted");
    }
  }
}
