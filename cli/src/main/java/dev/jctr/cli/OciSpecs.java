package dev.jctr.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The OCI runtime spec {@code jctr run} gives a container, as ctr's default for Linux: its own
 * pid, ipc, uts, mount and network namespaces; /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue,
 * /sys and the cgroup tree; Docker's default capabilities; a file-descriptor limit; no new
 * privileges; the kernel paths containers should not see masked or read-only. The image
 * config supplies command, environment, working directory and user.
 */
final class OciSpecs {

  static final List<String> DEFAULT_CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE",
      "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
      "CAP_AUDIT_WRITE");
  private static final List<String> MASKED = List.of("/proc/acpi", "/proc/asound",
      "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
      "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/sys/devices/virtual/powercap",
      "/proc/scsi");
  private static final List<String> READ_ONLY = List.of("/proc/bus", "/proc/fs", "/proc/irq",
      "/proc/sys", "/proc/sysrq-trigger");

  /** What {@code jctr run} adds to the image's configuration. */
  record Options(List<String> args, List<String> env, List<JsonObject> mounts,
      boolean netHost, double cpus, long memory, boolean terminal, String cwd) {}

  private OciSpecs() {}

  /**
   * The spec for container {@code id} in {@code namespace} from the image's config
   * ({@code config} of its config blob; may be null) and the options.
   */
  static JsonObject build(String namespace, String id, JsonObject config, Options options) {
    List<String> args = new ArrayList<>();
    List<String> env = new ArrayList<>();
    String cwd = "/";
    String user = "";
    if (config != null) {
      strings(config.get("Entrypoint"), args);
      if (options.args().isEmpty()) {
        strings(config.get("Cmd"), args);
      }
      strings(config.get("Env"), env);
      if (config.has("WorkingDir") && !config.get("WorkingDir").getAsString().isEmpty()) {
        cwd = config.get("WorkingDir").getAsString();
      }
      if (config.has("User")) {
        user = config.get("User").getAsString();
      }
    }
    args.addAll(options.args());
    if (env.stream().noneMatch(e -> e.startsWith("PATH="))) {
      env.add(0, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    }
    for (String entry : options.env()) {
      String key = entry.contains("=") ? entry.substring(0, entry.indexOf('=') + 1) : entry;
      env.removeIf(e -> e.startsWith(key));
      env.add(entry);
    }
    if (!options.cwd().isEmpty()) {
      cwd = options.cwd();
    }

    JsonObject spec = new JsonObject();
    spec.addProperty("ociVersion", "1.1.0");
    JsonObject process = new JsonObject();
    process.addProperty("terminal", options.terminal());
    process.add("user", user(user));
    process.add("args", array(args));
    process.add("env", array(env));
    process.addProperty("cwd", cwd);
    JsonObject capabilities = new JsonObject();
    for (String set : List.of("bounding", "effective", "permitted")) {
      capabilities.add(set, array(DEFAULT_CAPABILITIES));
    }
    process.add("capabilities", capabilities);
    JsonObject nofile = new JsonObject();
    nofile.addProperty("type", "RLIMIT_NOFILE");
    nofile.addProperty("hard", 1024);
    nofile.addProperty("soft", 1024);
    JsonArray rlimits = new JsonArray();
    rlimits.add(nofile);
    process.add("rlimits", rlimits);
    process.addProperty("noNewPrivileges", true);
    spec.add("process", process);

    JsonObject root = new JsonObject();
    root.addProperty("path", "rootfs");
    spec.add("root", root);
    spec.addProperty("hostname", options.netHost() ? hostname() : id);

    JsonArray mounts = new JsonArray();
    mounts.add(mount("/proc", "proc", "proc", "nosuid", "noexec", "nodev"));
    mounts.add(mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755",
        "size=65536k"));
    mounts.add(mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance",
        "ptmxmode=0666", "mode=0620", "gid=5"));
    mounts.add(mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777",
        "size=65536k"));
    mounts.add(mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"));
    mounts.add(mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"));
    mounts.add(mount("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev",
        "relatime", "ro"));
    if (options.netHost()) {
      mounts.add(mount("/etc/hosts", "bind", "/etc/hosts", "rbind", "ro"));
      mounts.add(mount("/etc/resolv.conf", "bind", "/etc/resolv.conf", "rbind", "ro"));
    }
    options.mounts().forEach(mounts::add);
    spec.add("mounts", mounts);

    JsonObject linux = new JsonObject();
    JsonObject resources = new JsonObject();
    JsonObject denyDevices = new JsonObject();
    denyDevices.addProperty("allow", false);
    denyDevices.addProperty("access", "rwm");
    JsonArray devices = new JsonArray();
    devices.add(denyDevices);
    resources.add("devices", devices);
    if (options.cpus() > 0) {
      JsonObject cpu = new JsonObject();
      cpu.addProperty("period", 100000);
      cpu.addProperty("quota", (long) (options.cpus() * 100000));
      resources.add("cpu", cpu);
    }
    if (options.memory() > 0) {
      JsonObject memory = new JsonObject();
      memory.addProperty("limit", options.memory());
      resources.add("memory", memory);
    }
    linux.add("resources", resources);
    linux.addProperty("cgroupsPath", "/" + namespace + "/" + id);
    JsonArray namespaces = new JsonArray();
    for (String type : List.of("pid", "ipc", "uts", "mount", "network")) {
      if (type.equals("network") && options.netHost()) {
        continue;
      }
      JsonObject ns = new JsonObject();
      ns.addProperty("type", type);
      namespaces.add(ns);
    }
    linux.add("namespaces", namespaces);
    linux.add("maskedPaths", array(MASKED));
    linux.add("readonlyPaths", array(READ_ONLY));
    spec.add("linux", linux);
    return spec;
  }

  /** A numeric {@code uid[:gid]} from the image; names need the image's /etc/passwd: root. */
  private static JsonObject user(String user) {
    JsonObject json = new JsonObject();
    int uid = 0;
    int gid = 0;
    String[] parts = user.split(":", 2);
    try {
      if (!parts[0].isEmpty()) {
        uid = Integer.parseInt(parts[0]);
      }
      if (parts.length > 1 && !parts[1].isEmpty()) {
        gid = Integer.parseInt(parts[1]);
      }
    } catch (NumberFormatException e) {
      uid = 0; // a user name: resolving it needs the rootfs
      gid = 0;
    }
    json.addProperty("uid", uid);
    json.addProperty("gid", gid);
    return json;
  }

  /** {@code --mount type=bind,src=/a,dst=/b,options=rbind:ro}, as ctr spells it. */
  static JsonObject parseMount(String text) {
    String type = "bind";
    String source = "";
    String destination = "";
    List<String> mountOptions = new ArrayList<>();
    for (String field : text.split(",")) {
      String[] kv = field.split("=", 2);
      if (kv.length != 2) {
        throw new IllegalArgumentException("--mount " + text + ": \"" + field
            + "\" is not KEY=VALUE");
      }
      switch (kv[0]) {
        case "type" -> type = kv[1];
        case "src", "source" -> source = kv[1];
        case "dst", "destination", "target" -> destination = kv[1];
        case "options" -> mountOptions.addAll(List.of(kv[1].split(":")));
        default -> throw new IllegalArgumentException("--mount " + text + ": unknown key "
            + kv[0] + " (type, src, dst, options)");
      }
    }
    if (destination.isEmpty() || !destination.startsWith("/")) {
      throw new IllegalArgumentException("--mount " + text + ": dst must be an absolute path");
    }
    if (type.equals("bind") && mountOptions.stream().noneMatch(o -> o.endsWith("bind"))) {
      mountOptions.add(0, "rbind");
    }
    return mount(destination, type, source, mountOptions.toArray(String[]::new));
  }

  private static JsonObject mount(String destination, String type, String source,
      String... options) {
    JsonObject mount = new JsonObject();
    mount.addProperty("destination", destination);
    mount.addProperty("type", type);
    mount.addProperty("source", source);
    mount.add("options", array(List.of(options)));
    return mount;
  }

  private static String hostname() {
    try { // the kernel's name, with no resolver round trip
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/hostname"))
          .strip();
    } catch (java.io.IOException e) {
      return "localhost";
    }
  }

  private static void strings(JsonElement element, List<String> into) {
    if (element != null && element.isJsonArray()) {
      element.getAsJsonArray().forEach(e -> into.add(e.getAsString()));
    }
  }

  private static JsonArray array(List<String> values) {
    JsonArray array = new JsonArray();
    values.forEach(array::add);
    return array;
  }
}
