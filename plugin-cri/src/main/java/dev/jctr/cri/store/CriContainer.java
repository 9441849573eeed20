package dev.jctr.cri.store;

import com.google.gson.JsonObject;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.jctr.api.proto.cri.v1.ContainerConfig;
import dev.jctr.api.proto.cri.v1.ContainerState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;

/**
 * A container as the CRI knows it: its config, pod, image, and the lifecycle the kubelet reads
 * back (created, started, finished, exit code, reason). Saved in {@code container.json} under
 * its persistent directory on every change.
 */
public final class CriContainer {

  private final String id;
  private final String sandboxId;
  private final String name;
  private final ContainerConfig config;
  private final String imageRef;
  private final String imageName;
  private final long createdAt;
  private final String logPath;
  private final int stopSignal;
  private final Path dir;
  private long startedAt;
  private long finishedAt;
  private int exitCode;
  private int pid;
  private String reason = "";
  private String message = "";
  private ContainerState state = ContainerState.CONTAINER_CREATED;
  /** Completes when the container's task has exited (after start). */
  private CompletableFuture<Void> exited = new CompletableFuture<>();

  public CriContainer(String id, String sandboxId, String name, ContainerConfig config,
      String imageRef, String imageName, long createdAt, String logPath, int stopSignal,
      Path dir) {
    this.id = id;
    this.sandboxId = sandboxId;
    this.name = name;
    this.config = config;
    this.imageRef = imageRef;
    this.imageName = imageName;
    this.createdAt = createdAt;
    this.logPath = logPath;
    this.stopSignal = stopSignal;
    this.dir = dir;
  }

  public String id() {
    return id;
  }

  public String sandboxId() {
    return sandboxId;
  }

  public String name() {
    return name;
  }

  public ContainerConfig config() {
    return config;
  }

  public String imageRef() {
    return imageRef;
  }

  public String imageName() {
    return imageName;
  }

  public long createdAt() {
    return createdAt;
  }

  /** Where the CRI log goes (the pod's log directory joined with the config's log path). */
  public String logPath() {
    return logPath;
  }

  public int stopSignal() {
    return stopSignal;
  }

  public Path dir() {
    return dir;
  }

  public synchronized ContainerState state() {
    return state;
  }

  public synchronized long startedAt() {
    return startedAt;
  }

  public synchronized long finishedAt() {
    return finishedAt;
  }

  public synchronized int exitCode() {
    return exitCode;
  }

  public synchronized int pid() {
    return pid;
  }

  public synchronized String reason() {
    return reason;
  }

  public synchronized String message() {
    return message;
  }

  public synchronized CompletableFuture<Void> exited() {
    return exited;
  }

  public synchronized void started(int processId, long at) {
    this.pid = processId;
    this.startedAt = at;
    this.state = ContainerState.CONTAINER_RUNNING;
  }

  /** Records the exit once; a second report of the same exit changes nothing. */
  public synchronized boolean finished(int code, long at, String why, String text) {
    if (state == ContainerState.CONTAINER_EXITED) {
      return false;
    }
    this.exitCode = code;
    this.finishedAt = at;
    this.reason = why;
    this.message = text;
    this.state = ContainerState.CONTAINER_EXITED;
    exited.complete(null);
    return true;
  }

  public synchronized void save() throws IOException {
    JsonObject json = new JsonObject();
    json.addProperty("id", id);
    json.addProperty("sandboxId", sandboxId);
    json.addProperty("name", name);
    json.addProperty("config", Base64.getEncoder().encodeToString(config.toByteArray()));
    json.addProperty("imageRef", imageRef);
    json.addProperty("imageName", imageName);
    json.addProperty("createdAt", createdAt);
    json.addProperty("logPath", logPath);
    json.addProperty("stopSignal", stopSignal);
    json.addProperty("startedAt", startedAt);
    json.addProperty("finishedAt", finishedAt);
    json.addProperty("exitCode", exitCode);
    json.addProperty("pid", pid);
    json.addProperty("reason", reason);
    json.addProperty("message", message);
    json.addProperty("state", state.name());
    JsonFiles.write(dir.resolve("container.json"), json);
  }

  public static CriContainer load(Path dir) throws IOException {
    JsonObject json = JsonFiles.read(dir.resolve("container.json"));
    try {
      CriContainer container = new CriContainer(json.get("id").getAsString(),
          json.get("sandboxId").getAsString(), json.get("name").getAsString(),
          ContainerConfig.parseFrom(Base64.getDecoder().decode(json.get("config")
              .getAsString())), json.get("imageRef").getAsString(),
          json.get("imageName").getAsString(), json.get("createdAt").getAsLong(),
          json.get("logPath").getAsString(), json.get("stopSignal").getAsInt(), dir);
      container.startedAt = json.get("startedAt").getAsLong();
      container.finishedAt = json.get("finishedAt").getAsLong();
      container.exitCode = json.get("exitCode").getAsInt();
      container.pid = json.get("pid").getAsInt();
      container.reason = json.get("reason").getAsString();
      container.message = json.get("message").getAsString();
      container.state = ContainerState.valueOf(json.get("state").getAsString());
      if (container.state == ContainerState.CONTAINER_EXITED) {
        container.exited.complete(null);
      }
      return container;
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new IOException("container record in " + dir + " is damaged: " + e.getMessage(), e);
    }
  }
}
