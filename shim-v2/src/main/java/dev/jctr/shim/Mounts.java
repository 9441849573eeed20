package dev.jctr.shim;

import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.proto.containerd.types.Mount;
import dev.jctr.runtime.linux.LinuxCalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Mounts a task's rootfs (the snapshot's mounts, in order) onto the bundle's rootfs and takes
 * it down again: overlay and bind mounts (what the snapshotters give) as system calls, other
 * types through mount(8).
 */
final class Mounts {

  private Mounts() {}

  static void mountAll(List<Mount> mounts, Path target) throws IOException {
    List<Mount> done = new ArrayList<>();
    try {
      for (Mount mount : mounts) {
        String type = mount.getType();
        if (!mount.getTarget().isEmpty()) {
          throw new InvalidArgumentException("rootfs mount with a target ("
              + mount.getTarget() + ") is not supported");
        }
        if (type.equals("overlay") || type.equals("bind") || type.equals("rbind")) {
          // the common cases as one system call, without a mount(8) process
          List<String> flags = new ArrayList<>(mount.getOptionsList());
          if (!type.equals("overlay") && !flags.contains("bind") && !flags.contains("rbind")) {
            flags.add(0, type);
          }
          LinuxCalls.mount(mount.getSource(), target.toString(),
              type.equals("overlay") ? "overlay" : "none", flags);
          if (flags.contains("ro") && !type.equals("overlay")) { // a bind ignores ro at first
            List<String> remount = new ArrayList<>(flags);
            remount.add("remount");
            LinuxCalls.mount("", target.toString(), "none", remount);
          }
          done.add(mount);
          continue;
        }
        List<String> command = new ArrayList<>(List.of("mount"));
        List<String> options = new ArrayList<>(mount.getOptionsList());
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
    for (int i = 0; i < 8 && LinuxCalls.unmount(target.toString(), false); i++) {
      // stacked mounts come off one at a time
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
