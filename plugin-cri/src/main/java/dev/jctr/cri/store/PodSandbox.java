package dev.jctr.cri.store;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.cri.v1.PodSandboxConfig;
import dev.jctr.api.proto.cri.v1.PodSandboxState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A pod sandbox as the CRI knows it: its config as the kubelet sent it, where its network
 * namespace is pinned, its addresses, its pause task's pid, and whether it is ready. The
 * record is saved in {@code sandbox.json} under the sandbox's persistent directory on every
 * change, so a restarted daemon knows it again.
 */
public final class PodSandbox {

  private final String id;
  private final String name;
  private final PodSandboxConfig config;
  private final String runtimeHandler;
  private final Container.Runtime runtime;
  private final long createdAt;
  private final String cgroupParent;
  private final Path dir;
  private String netns;
  private List<String> ips = List.of();
  private int pid;
  private PodSandboxState state = PodSandboxState.SANDBOX_NOTREADY;
  private String image;

  public PodSandbox(String id, String name, PodSandboxConfig config, String runtimeHandler,
      Container.Runtime runtime, long createdAt, String cgroupParent, Path dir) {
    this.id = id;
    this.name = name;
    this.config = config;
    this.runtimeHandler = runtimeHandler;
    this.runtime = runtime;
    this.createdAt = createdAt;
    this.cgroupParent = cgroupParent;
    this.dir = dir;
  }

  public String id() {
    return id;
  }

  public String name() {
    return name;
  }

  public PodSandboxConfig config() {
    return config;
  }

  public String runtimeHandler() {
    return runtimeHandler;
  }

  /** The runtime its containers run on: the shim's name and its options (a runc binary). */
  public Container.Runtime runtime() {
    return runtime;
  }

  public long createdAt() {
    return createdAt;
  }

  /** The cgroup under which the pod's containers' cgroups go (cgroupfs path). */
  public String cgroupParent() {
    return cgroupParent;
  }

  /** Persistent directory: hostname, hosts, resolv.conf, this record. */
  public Path dir() {
    return dir;
  }

  public synchronized String netns() {
    return netns;
  }

  public synchronized void netns(String path) {
    this.netns = path;
  }

  public boolean hostNetwork() {
    return config.hasLinux() && config.getLinux().hasSecurityContext()
        && config.getLinux().getSecurityContext().hasNamespaceOptions()
        && config.getLinux().getSecurityContext().getNamespaceOptions().getNetworkValue() == 2;
  }

  public synchronized List<String> ips() {
    return ips;
  }

  public synchronized void ips(List<String> addresses) {
    this.ips = List.copyOf(addresses);
  }

  public synchronized int pid() {
    return pid;
  }

  public synchronized void pid(int value) {
    this.pid = value;
  }

  public synchronized PodSandboxState state() {
    return state;
  }

  public synchronized void state(PodSandboxState value) {
    this.state = value;
  }

  public synchronized String image() {
    return image;
  }

  public synchronized void image(String value) {
    this.image = value;
  }

  public synchronized void save() throws IOException {
    JsonObject json = new JsonObject();
    json.addProperty("id", id);
    json.addProperty("name", name);
    json.addProperty("config", Base64.getEncoder().encodeToString(config.toByteArray()));
    json.addProperty("runtimeHandler", runtimeHandler);
    json.addProperty("runtime", runtime.getName());
    json.addProperty("runtimeOptions", runtime.hasOptions()
        ? Base64.getEncoder().encodeToString(runtime.getOptions().toByteArray()) : "");
    json.addProperty("createdAt", createdAt);
    json.addProperty("cgroupParent", cgroupParent);
    json.addProperty("netns", netns == null ? "" : netns);
    JsonArray addresses = new JsonArray();
    ips.forEach(addresses::add);
    json.add("ips", addresses);
    json.addProperty("pid", pid);
    json.addProperty("state", state.name());
    json.addProperty("image", image == null ? "" : image);
    JsonFiles.write(dir.resolve("sandbox.json"), json);
  }

  public static PodSandbox load(Path dir) throws IOException {
    JsonObject json = JsonFiles.read(dir.resolve("sandbox.json"));
    try {
      PodSandbox sandbox = new PodSandbox(json.get("id").getAsString(),
          json.get("name").getAsString(),
          PodSandboxConfig.parseFrom(Base64.getDecoder().decode(json.get("config")
              .getAsString())), json.get("runtimeHandler").getAsString(),
          runtime(json), json.get("createdAt").getAsLong(),
          json.get("cgroupParent").getAsString(), dir);
      String netns = json.get("netns").getAsString();
      sandbox.netns = netns.isEmpty() ? null : netns;
      List<String> addresses = new ArrayList<>();
      json.getAsJsonArray("ips").forEach(ip -> addresses.add(ip.getAsString()));
      sandbox.ips = List.copyOf(addresses);
      sandbox.pid = json.get("pid").getAsInt();
      sandbox.state = PodSandboxState.valueOf(json.get("state").getAsString());
      sandbox.image = json.get("image").getAsString();
      return sandbox;
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new IOException("sandbox record in " + dir + " is damaged: " + e.getMessage(), e);
    }
  }

  /** The saved runtime; records saved before runtimes had options have none. */
  private static Container.Runtime runtime(JsonObject json)
      throws InvalidProtocolBufferException {
    Container.Runtime.Builder runtime = Container.Runtime.newBuilder()
        .setName(json.get("runtime").getAsString());
    String options = json.has("runtimeOptions") ? json.get("runtimeOptions").getAsString() : "";
    if (!options.isEmpty()) {
      runtime.setOptions(Any.parseFrom(Base64.getDecoder().decode(options)));
    }
    return runtime.build();
  }
}
