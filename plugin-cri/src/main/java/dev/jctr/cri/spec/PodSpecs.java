package dev.jctr.cri.spec;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.proto.cri.v1.Capability;
import dev.jctr.api.proto.cri.v1.ContainerConfig;
import dev.jctr.api.proto.cri.v1.Device;
import dev.jctr.api.proto.cri.v1.LinuxContainerResources;
import dev.jctr.api.proto.cri.v1.LinuxContainerSecurityContext;
import dev.jctr.api.proto.cri.v1.LinuxSandboxSecurityContext;
import dev.jctr.api.proto.cri.v1.Mount;
import dev.jctr.api.proto.cri.v1.NamespaceOption;
import dev.jctr.api.proto.cri.v1.PodSandboxConfig;
import dev.jctr.api.proto.cri.v1.SecurityProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OCI runtime specs for the CRI: the pause container of a pod and the containers in it, from
 * the kubelet's configs and the images' configs, as containerd's CRI builds them.
 */
public final class PodSpecs {

  static final List<String> DEFAULT_CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE",
      "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
      "CAP_AUDIT_WRITE");
  /** Every capability a privileged container gets (Linux 5.x/6.x). */
  static final List<String> ALL_CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE",
      "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
      "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
      "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
      "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN",
      "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
      "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
      "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
      "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE");
  static final List<String> MASKED = List.of("/proc/acpi", "/proc/asound", "/proc/kcore",
      "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
      "/proc/sched_debug", "/sys/firmware", "/sys/devices/virtual/powercap", "/proc/scsi");
  static final List<String> READ_ONLY = List.of("/proc/bus", "/proc/fs", "/proc/irq",
      "/proc/sys", "/proc/sysrq-trigger");
  static final String DEFAULT_PATH =
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  /** containerd's oom_score_adj for pause containers: the last thing the OOM killer takes. */
  public static final int SANDBOX_OOM_SCORE_ADJ = -998;

  /** Where a pod's shared files are: its persistent dir (hosts, resolv.conf, hostname), shm. */
  public record SandboxFiles(Path hostname, Path hosts, Path resolvConf, Path shm) {}

  /** The pod facts a container spec needs. */
  public record Pod(String id, PodSandboxConfig config, String netns, int pid,
      SandboxFiles files, String cgroupParent) {}

  private final OomScores oom;

  public PodSpecs(OomScores oom) {
    this.oom = oom;
  }

  /** The pause container's spec. */
  public JsonObject sandbox(Pod pod, JsonObject image, String imageName, ImageUsers users) {
    PodSandboxConfig config = pod.config();
    LinuxSandboxSecurityContext security = config.hasLinux()
        ? config.getLinux().getSecurityContext() : LinuxSandboxSecurityContext.getDefaultInstance();
    NamespaceOption namespaces = security.getNamespaceOptions();
    boolean hostNetwork = namespaces.getNetworkValue() == 2;

    List<String> args = new ArrayList<>();
    strings(image.get("Entrypoint"), args);
    strings(image.get("Cmd"), args);
    if (args.isEmpty()) {
      throw new InvalidArgumentException("sandbox image " + imageName + " has no entrypoint"
          + " or command; configure a pause image (sandbox_image)");
    }
    List<String> env = new ArrayList<>();
    strings(image.get("Env"), env);
    if (env.stream().noneMatch(e -> e.startsWith("PATH="))) {
      env.add(0, DEFAULT_PATH);
    }
    String userSpec = security.hasRunAsUser() ? Long.toString(security.getRunAsUser().getValue())
        : text(image, "User");
    if (security.hasRunAsGroup()) {
      userSpec = (userSpec.isEmpty() ? "0" : userSpec.split(":")[0]) + ":"
          + security.getRunAsGroup().getValue();
    }
    ImageUsers.User user = users.resolve(userSpec);

    JsonObject spec = base();
    JsonObject process = spec.getAsJsonObject("process");
    process.add("args", array(args));
    process.add("env", array(env));
    process.add("user", user(user, security.getSupplementalGroupsList()));
    process.addProperty("oomScoreAdj", oom.clamp(SANDBOX_OOM_SCORE_ADJ, "pause of pod "
        + pod.id()));
    capabilities(process, security.getPrivileged() ? ALL_CAPABILITIES : DEFAULT_CAPABILITIES);
    spec.getAsJsonObject("root").addProperty("readonly", security.getReadonlyRootfs());
    spec.addProperty("hostname", hostNetwork ? hostHostname() : config.getHostname());

    JsonArray mounts = defaultMounts(pod.files().shm(), namespaces.getIpcValue() == 2,
        security.getPrivileged());
    spec.add("mounts", mounts);

    JsonObject linux = spec.getAsJsonObject("linux");
    JsonArray nsList = new JsonArray();
    if (namespaces.getPidValue() != 2) {
      nsList.add(namespace("pid", null));
    }
    if (namespaces.getIpcValue() != 2) {
      nsList.add(namespace("ipc", null));
    }
    if (!hostNetwork) {
      nsList.add(namespace("uts", null));
      nsList.add(namespace("network", pod.netns()));
    }
    nsList.add(namespace("mount", null));
    linux.add("namespaces", nsList);
    linux.addProperty("cgroupsPath", pod.cgroupParent() + "/" + pod.id());
    JsonObject resources = linux.getAsJsonObject("resources");
    JsonObject cpu = new JsonObject();
    cpu.addProperty("shares", 2);
    resources.add("cpu", cpu);
    if (config.hasLinux() && config.getLinux().getSysctlsCount() > 0) {
      JsonObject sysctl = new JsonObject();
      config.getLinux().getSysctlsMap().forEach(sysctl::addProperty);
      linux.add("sysctl", sysctl);
    }
    if (security.getPrivileged()) {
      linux.remove("maskedPaths");
      linux.remove("readonlyPaths");
      privilegedDevices(resources);
    } else {
      seccomp(linux, security.hasSeccomp() ? security.getSeccomp() : null,
          security.getSeccompProfilePath());
    }
    Map<String, String> annotations = new LinkedHashMap<>(config.getAnnotationsMap());
    annotations.put("io.kubernetes.cri.container-type", "sandbox");
    annotations.put("io.kubernetes.cri.sandbox-id", pod.id());
    annotations.put("io.kubernetes.cri.sandbox-name", config.getMetadata().getName());
    annotations.put("io.kubernetes.cri.sandbox-namespace", config.getMetadata().getNamespace());
    annotations.put("io.kubernetes.cri.sandbox-uid", config.getMetadata().getUid());
    annotations.put("io.kubernetes.cri.sandbox-log-directory", config.getLogDirectory());
    annotations.put("io.kubernetes.cri.podsandbox.image-name", imageName);
    spec.add("annotations", map(annotations));
    return spec;
  }

  /**
   * A container's spec in {@code pod}; {@code targetPid} is the pid of the container whose
   * pid namespace a TARGET namespace option names (0 otherwise).
   */
  public JsonObject container(Pod pod, String id, ContainerConfig config, JsonObject image,
      String imageName, ImageUsers users, int targetPid) {
    LinuxContainerSecurityContext security = config.hasLinux()
        ? config.getLinux().getSecurityContext()
        : LinuxContainerSecurityContext.getDefaultInstance();
    NamespaceOption namespaces = security.getNamespaceOptions();
    List<String> args = new ArrayList<>();
    if (config.getCommandCount() > 0) {
      args.addAll(config.getCommandList());
      args.addAll(config.getArgsList());
    } else {
      strings(image.get("Entrypoint"), args);
      if (config.getArgsCount() > 0) {
        args.addAll(config.getArgsList());
      } else {
        strings(image.get("Cmd"), args);
      }
    }
    if (args.isEmpty()) {
      throw new InvalidArgumentException("container " + config.getMetadata().getName()
          + ": no command specified (neither the config nor image " + imageName
          + " gives one)");
    }
    List<String> env = new ArrayList<>();
    strings(image.get("Env"), env);
    if (env.stream().noneMatch(e -> e.startsWith("PATH="))) {
      env.add(0, DEFAULT_PATH);
    }
    config.getEnvsList().forEach(kv -> {
      env.removeIf(e -> e.startsWith(kv.getKey() + "="));
      env.add(kv.getKey() + "=" + kv.getValue().toStringUtf8());
    });
    String cwd = !config.getWorkingDir().isEmpty() ? config.getWorkingDir()
        : text(image, "WorkingDir").isEmpty() ? "/" : text(image, "WorkingDir");

    String userSpec = text(image, "User");
    if (security.hasRunAsUser()) {
      userSpec = Long.toString(security.getRunAsUser().getValue());
    } else if (!security.getRunAsUsername().isEmpty()) {
      userSpec = security.getRunAsUsername();
    }
    if (security.hasRunAsGroup()) {
      userSpec = (userSpec.isEmpty() ? "0" : userSpec.split(":")[0]) + ":"
          + security.getRunAsGroup().getValue();
    }
    ImageUsers.User user = users.resolve(userSpec);

    JsonObject spec = base();
    JsonObject process = spec.getAsJsonObject("process");
    process.addProperty("terminal", config.getTty());
    process.add("args", array(args));
    process.add("env", array(env));
    process.addProperty("cwd", cwd);
    process.add("user", user(user, security.getSupplementalGroupsList()));
    process.addProperty("noNewPrivileges", security.getNoNewPrivs());
    LinuxContainerResources resources = config.hasLinux() && config.getLinux().hasResources()
        ? config.getLinux().getResources() : LinuxContainerResources.getDefaultInstance();
    if (resources.getOomScoreAdj() != 0) {
      process.addProperty("oomScoreAdj", oom.clamp((int) resources.getOomScoreAdj(),
          "container " + config.getMetadata().getName()));
    }
    capabilities(process, security.getPrivileged() ? ALL_CAPABILITIES
        : capabilities(security.hasCapabilities() ? security.getCapabilities() : null));
    spec.getAsJsonObject("root").addProperty("readonly", security.getReadonlyRootfs());
    spec.addProperty("hostname", pod.config().getHostname());

    boolean hostIpc = namespaces.getIpcValue() == 2;
    JsonArray mounts = defaultMounts(pod.files().shm(), hostIpc, security.getPrivileged());
    List<String> destinations = config.getMountsList().stream().map(Mount::getContainerPath)
        .toList();
    for (var file : List.of(Map.entry("/etc/hostname", pod.files().hostname()),
        Map.entry("/etc/hosts", pod.files().hosts()),
        Map.entry("/etc/resolv.conf", pod.files().resolvConf()))) {
      if (!destinations.contains(file.getKey()) && Files.exists(file.getValue())) {
        mounts.add(mount(file.getKey(), "bind", file.getValue().toString(),
            security.getReadonlyRootfs() ? List.of("rbind", "rprivate", "ro")
                : List.of("rbind", "rprivate", "rw")));
      }
    }
    for (Mount mount : config.getMountsList()) {
      mounts.add(userMount(config, mount));
    }
    spec.add("mounts", mounts);

    JsonObject linux = spec.getAsJsonObject("linux");
    JsonArray nsList = new JsonArray();
    boolean podHostNetwork = pod.netns() == null || pod.netns().isEmpty();
    if (!podHostNetwork) {
      nsList.add(namespace("network", pod.netns()));
    }
    if (!hostIpc) {
      nsList.add(namespace("ipc", "/proc/" + pod.pid() + "/ns/ipc"));
    }
    if (!podHostNetwork) {
      nsList.add(namespace("uts", "/proc/" + pod.pid() + "/ns/uts"));
    }
    switch (namespaces.getPidValue()) {
      case 0 -> nsList.add(namespace("pid", "/proc/" + pod.pid() + "/ns/pid"));
      case 1 -> nsList.add(namespace("pid", null));
      case 3 -> {
        if (targetPid <= 0) {
          throw new FailedPreconditionException("container " + config.getMetadata().getName()
              + ": target container " + namespaces.getTargetId() + " of its pid namespace is"
              + " not running");
        }
        nsList.add(namespace("pid", "/proc/" + targetPid + "/ns/pid"));
      }
      default -> { } // NODE: the host's
    }
    nsList.add(namespace("mount", null));
    linux.add("namespaces", nsList);
    linux.addProperty("cgroupsPath", pod.cgroupParent() + "/" + id);
    JsonObject limits = linux.getAsJsonObject("resources");
    resources(limits, resources);
    JsonArray linuxDevices = new JsonArray();
    for (Device device : config.getDevicesList()) {
      device(device, linuxDevices, limits.getAsJsonArray("devices"));
    }
    if (!linuxDevices.isEmpty()) {
      linux.add("devices", linuxDevices);
    }
    if (security.getPrivileged()) {
      linux.remove("maskedPaths");
      linux.remove("readonlyPaths");
      privilegedDevices(limits);
    } else {
      if (security.getMaskedPathsCount() > 0) {
        linux.add("maskedPaths", array(security.getMaskedPathsList()));
      }
      if (security.getReadonlyPathsCount() > 0) {
        linux.add("readonlyPaths", array(security.getReadonlyPathsList()));
      }
      seccomp(linux, security.hasSeccomp() ? security.getSeccomp() : null,
          security.getSeccompProfilePath());
      apparmor(security);
    }
    Map<String, String> annotations = new LinkedHashMap<>(config.getAnnotationsMap());
    annotations.put("io.kubernetes.cri.container-type", "container");
    annotations.put("io.kubernetes.cri.container-name", config.getMetadata().getName());
    annotations.put("io.kubernetes.cri.sandbox-id", pod.id());
    annotations.put("io.kubernetes.cri.sandbox-name", pod.config().getMetadata().getName());
    annotations.put("io.kubernetes.cri.sandbox-namespace",
        pod.config().getMetadata().getNamespace());
    annotations.put("io.kubernetes.cri.sandbox-uid", pod.config().getMetadata().getUid());
    annotations.put("io.kubernetes.cri.image-name", imageName);
    spec.add("annotations", map(annotations));
    return spec;
  }

  /** The OCI {@code linux.resources} of CRI resources (also for UpdateContainerResources). */
  public static JsonObject resources(LinuxContainerResources resources) {
    JsonObject limits = new JsonObject();
    resources(limits, resources);
    return limits;
  }

  private static void resources(JsonObject limits, LinuxContainerResources resources) {
    JsonObject cpu = new JsonObject();
    if (resources.getCpuShares() > 0) {
      cpu.addProperty("shares", resources.getCpuShares());
    }
    if (resources.getCpuQuota() != 0) {
      cpu.addProperty("quota", resources.getCpuQuota());
    }
    if (resources.getCpuPeriod() > 0) {
      cpu.addProperty("period", resources.getCpuPeriod());
    }
    if (!resources.getCpusetCpus().isEmpty()) {
      cpu.addProperty("cpus", resources.getCpusetCpus());
    }
    if (!resources.getCpusetMems().isEmpty()) {
      cpu.addProperty("mems", resources.getCpusetMems());
    }
    if (cpu.size() > 0) {
      limits.add("cpu", cpu);
    }
    JsonObject memory = new JsonObject();
    if (resources.getMemoryLimitInBytes() > 0) {
      memory.addProperty("limit", resources.getMemoryLimitInBytes());
    }
    if (resources.getMemorySwapLimitInBytes() > 0) {
      memory.addProperty("swap", resources.getMemorySwapLimitInBytes());
    }
    if (memory.size() > 0) {
      limits.add("memory", memory);
    }
    if (resources.getUnifiedCount() > 0) {
      JsonObject unified = new JsonObject();
      resources.getUnifiedMap().forEach(unified::addProperty);
      limits.add("unified", unified);
    }
  }

  private static JsonObject base() {
    JsonObject spec = new JsonObject();
    spec.addProperty("ociVersion", "1.1.0");
    JsonObject process = new JsonObject();
    process.addProperty("terminal", false);
    process.addProperty("cwd", "/");
    process.addProperty("noNewPrivileges", true);
    spec.add("process", process);
    JsonObject root = new JsonObject();
    root.addProperty("path", "rootfs");
    spec.add("root", root);
    JsonObject linux = new JsonObject();
    JsonObject resources = new JsonObject();
    JsonObject deny = new JsonObject();
    deny.addProperty("allow", false);
    deny.addProperty("access", "rwm");
    JsonArray devices = new JsonArray();
    devices.add(deny);
    resources.add("devices", devices);
    linux.add("resources", resources);
    linux.add("maskedPaths", array(MASKED));
    linux.add("readonlyPaths", array(READ_ONLY));
    spec.add("linux", linux);
    return spec;
  }

  private static JsonArray defaultMounts(Path shm, boolean hostIpc, boolean privileged) {
    JsonArray mounts = new JsonArray();
    mounts.add(mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")));
    mounts.add(mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755",
        "size=65536k")));
    mounts.add(mount("/dev/pts", "devpts", "devpts", List.of("nosuid", "noexec",
        "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")));
    mounts.add(mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")));
    mounts.add(mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev",
        privileged ? "rw" : "ro")));
    mounts.add(mount("/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "noexec",
        "nodev", "relatime", privileged ? "rw" : "ro")));
    if (hostIpc) {
      mounts.add(mount("/dev/shm", "bind", "/dev/shm", List.of("rbind", "ro")));
    } else {
      mounts.add(mount("/dev/shm", "bind", shm.toString(), List.of("rbind", "rprivate",
          "rw")));
    }
    return mounts;
  }

  private static JsonObject userMount(ContainerConfig config, Mount mount) {
    String source = mount.getHostPath();
    String destination = mount.getContainerPath();
    String name = config.getMetadata().getName();
    if (!destination.startsWith("/") || List.of(destination.split("/")).contains("..")) {
      throw new InvalidArgumentException("container " + name + ": mount destination \""
          + destination + "\" must be an absolute path without \"..\"");
    }
    if (!source.startsWith("/") || List.of(source.split("/")).contains("..")) {
      throw new InvalidArgumentException("container " + name + ": mount source \"" + source
          + "\" must be an absolute path without \"..\"");
    }
    if (!Files.exists(Path.of(source))) {
      throw new InvalidArgumentException("container " + name + ": mount source \"" + source
          + "\" (for " + destination + ") does not exist on the host; create it first");
    }
    List<String> options = new ArrayList<>(List.of("rbind"));
    options.add(switch (mount.getPropagationValue()) {
      case 1 -> "rslave";
      case 2 -> "rshared";
      default -> "rprivate";
    });
    options.add(mount.getReadonly() ? "ro" : "rw");
    return mount(destination, "bind", source, options);
  }

  private static void device(Device device, JsonArray linuxDevices, JsonArray allowed) {
    Path host = Path.of(device.getHostPath());
    long rdev;
    int mode;
    try {
      rdev = ((Number) Files.getAttribute(host, "unix:rdev")).longValue();
      mode = (Integer) Files.getAttribute(host, "unix:mode");
    } catch (IOException | UnsupportedOperationException e) {
      throw new InvalidArgumentException("device " + device.getHostPath() + " cannot be read on"
          + " the host: " + e.getMessage());
    }
    String type = switch (mode & 0170000) {
      case 0020000 -> "c";
      case 0060000 -> "b";
      default -> throw new InvalidArgumentException(device.getHostPath() + " is not a device");
    };
    long major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfffL);
    long minor = (rdev & 0xff) | ((rdev >> 12) & ~0xffL);
    JsonObject entry = new JsonObject();
    entry.addProperty("path", device.getContainerPath().isEmpty() ? device.getHostPath()
        : device.getContainerPath());
    entry.addProperty("type", type);
    entry.addProperty("major", major);
    entry.addProperty("minor", minor);
    entry.addProperty("fileMode", mode & 07777);
    entry.addProperty("uid", 0);
    entry.addProperty("gid", 0);
    linuxDevices.add(entry);
    JsonObject allow = new JsonObject();
    allow.addProperty("allow", true);
    allow.addProperty("type", type);
    allow.addProperty("major", major);
    allow.addProperty("minor", minor);
    allow.addProperty("access", device.getPermissions().isEmpty() ? "rwm"
        : device.getPermissions());
    allowed.add(allow);
  }

  private static void privilegedDevices(JsonObject resources) {
    JsonObject allowAll = new JsonObject();
    allowAll.addProperty("allow", true);
    allowAll.addProperty("access", "rwm");
    JsonArray devices = new JsonArray();
    devices.add(allowAll);
    resources.add("devices", devices);
  }

  private static void seccomp(JsonObject linux, SecurityProfile profile, String legacyPath) {
    if (profile == null) {
      if (legacyPath.equals("runtime/default") || legacyPath.equals("docker/default")) {
        linux.add("seccomp", Seccomp.runtimeDefault());
      } else if (legacyPath.startsWith("localhost/")) {
        linux.add("seccomp", localProfile(legacyPath.substring("localhost/".length())));
      }
      return; // unset or "unconfined"
    }
    switch (profile.getProfileTypeValue()) {
      case 0 -> linux.add("seccomp", Seccomp.runtimeDefault());
      case 2 -> linux.add("seccomp", localProfile(profile.getLocalhostRef()));
      default -> { } // Unconfined
    }
  }

  private static JsonObject localProfile(String path) {
    try {
      JsonElement profile = JsonParser.parseString(Files.readString(Path.of(path)));
      return profile.getAsJsonObject();
    } catch (IOException | RuntimeException e) {
      throw new InvalidArgumentException("seccomp profile " + path + " cannot be loaded: "
          + e.getMessage());
    }
  }

  /** AppArmor: a named profile needs the host's AppArmor, which a host without it lacks. */
  private static void apparmor(LinuxContainerSecurityContext security) {
    boolean named = security.hasApparmor() && security.getApparmor().getProfileTypeValue() == 2
        || security.getApparmorProfile().startsWith("localhost/");
    if (named && !apparmorEnabled()) {
      throw new FailedPreconditionException("apparmor profile requested, but AppArmor is not"
          + " available on this host");
    }
  }

  public static boolean apparmorEnabled() {
    try {
      return Files.readString(Path.of("/sys/module/apparmor/parameters/enabled")).strip()
          .equals("Y");
    } catch (IOException e) {
      return false;
    }
  }

  private static List<String> capabilities(Capability requested) {
    List<String> caps = new ArrayList<>(DEFAULT_CAPABILITIES);
    if (requested == null) {
      return caps;
    }
    for (String add : requested.getAddCapabilitiesList()) {
      if (add.equalsIgnoreCase("ALL")) {
        caps = new ArrayList<>(ALL_CAPABILITIES);
        continue;
      }
      String cap = capName(add);
      if (!caps.contains(cap)) {
        caps.add(cap);
      }
    }
    for (String drop : requested.getDropCapabilitiesList()) {
      if (drop.equalsIgnoreCase("ALL")) {
        caps.clear();
        // adds still apply after dropping all, as in containerd
        requested.getAddCapabilitiesList().stream().filter(a -> !a.equalsIgnoreCase("ALL"))
            .map(PodSpecs::capName).forEach(caps::add);
        continue;
      }
      caps.remove(capName(drop));
    }
    return caps;
  }

  private static String capName(String name) {
    String upper = name.toUpperCase(java.util.Locale.ROOT);
    return upper.startsWith("CAP_") ? upper : "CAP_" + upper;
  }

  private static void capabilities(JsonObject process, List<String> caps) {
    JsonObject capabilities = new JsonObject();
    for (String set : List.of("bounding", "effective", "permitted")) {
      capabilities.add(set, array(caps));
    }
    process.add("capabilities", capabilities);
  }

  private static JsonObject user(ImageUsers.User user, List<Long> supplemental) {
    JsonObject json = new JsonObject();
    json.addProperty("uid", user.uid());
    json.addProperty("gid", user.gid());
    JsonArray groups = new JsonArray();
    List<Long> all = new ArrayList<>(user.additionalGids());
    supplemental.stream().filter(g -> !all.contains(g)).forEach(all::add);
    all.forEach(groups::add);
    if (!groups.isEmpty()) {
      json.add("additionalGids", groups);
    }
    return json;
  }

  private static JsonObject namespace(String type, String path) {
    JsonObject ns = new JsonObject();
    ns.addProperty("type", type);
    if (path != null) {
      ns.addProperty("path", path);
    }
    return ns;
  }

  static JsonObject mount(String destination, String type, String source,
      List<String> options) {
    JsonObject mount = new JsonObject();
    mount.addProperty("destination", destination);
    mount.addProperty("type", type);
    mount.addProperty("source", source);
    mount.add("options", array(options));
    return mount;
  }

  public static String hostHostname() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    } catch (IOException e) {
      return "localhost";
    }
  }

  private static String text(JsonObject json, String key) {
    JsonElement value = json.get(key);
    return value == null || value.isJsonNull() ? "" : value.getAsString();
  }

  private static void strings(JsonElement element, List<String> into) {
    if (element != null && element.isJsonArray()) {
      element.getAsJsonArray().forEach(e -> into.add(e.getAsString()));
    }
  }

  public static JsonArray array(List<?> values) {
    JsonArray array = new JsonArray();
    values.forEach(v -> array.add(v.toString()));
    return array;
  }

  private static JsonObject map(Map<String, String> values) {
    JsonObject json = new JsonObject();
    values.forEach(json::addProperty);
    return json;
  }
}
