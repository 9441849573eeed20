package dev.jctr.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.jctr.api.identifiers.ImageNames;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.CreateContainerRequest;
import dev.jctr.api.proto.containerd.services.containers.v1.DeleteContainerRequest;
import dev.jctr.api.proto.containerd.services.images.v1.GetImageRequest;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.services.images.v1.ImagesGrpc;
import dev.jctr.api.proto.containerd.services.leases.v1.CreateRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.DeleteRequest;
import dev.jctr.api.proto.containerd.services.leases.v1.LeasesGrpc;
import dev.jctr.api.proto.containerd.services.snapshots.v1.PrepareSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.RemoveSnapshotRequest;
import dev.jctr.api.proto.containerd.services.snapshots.v1.SnapshotsGrpc;
import dev.jctr.api.proto.containerd.services.tasks.v1.CreateTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.DeleteTaskRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.StartRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.TasksGrpc;
import dev.jctr.api.proto.containerd.services.tasks.v1.WaitRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.WaitResponse;
import dev.jctr.api.proto.containerd.types.Mount;
import dev.jctr.api.typeurl.TypeUrls;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;

/**
 * {@code jctr run}: a container from an image, as ctr runs one: the image's top snapshot
 * prepared for it, a spec from the image config, a task on the chosen runtime, its output on
 * ours, and its exit code as ours. {@code --rm} removes task, container and snapshot after.
 */
final class RunCommand {

  static final String DEFAULT_RUNTIME = "io.containerd.jctr.v2";

  private RunCommand() {}

  static Command command() {
    return Command.named("run").describe("Run a container from an image.")
        .option(Option.flag("remove the task, container and snapshot when it exits", "--rm"))
        .option(Option.flag("detach: start it and return", "-d", "--detach"))
        .option(Option.flag("a terminal for the container, our keys its input", "-t",
            "--tty"))
        .option(Option.value("KEY=VALUE", "an environment variable; repeatable", "--env"))
        .option(Option.value("SPEC", "type=bind,src=/a,dst=/b,options=rbind:ro; repeatable",
            "--mount"))
        .option(Option.flag("use the host's network namespace", "--net-host"))
        .option(Option.value("N", "CPUs (e.g. 0.5)", "--cpus").withDefault("0"))
        .option(Option.value("BYTES", "memory limit in bytes", "--memory").withDefault("0"))
        .option(Option.value("DIR", "working directory", "--cwd").withDefault(""))
        .option(Option.value("NAME", "runtime", "--runtime").withDefault(DEFAULT_RUNTIME))
        .option(ContainersCommand.RUNC_BINARY)
        .option(Option.value("NAME", "snapshotter", "--snapshotter").withDefault("overlayfs"))
        .positional("IMAGE", "the image, e.g. busybox")
        .positional("ID", "the new container's id")
        .positionals("CMD", 0, Command.MANY, "command and arguments (default: the image's)")
        .optionsEndAfter(2)
        .runs(RunCommand::run);
  }

  private static int run(Jctr root, Parsed args) throws Exception {
    String ref = normalize(args.positional(0));
    String id = args.positional(1);
    String snapshotter = args.value("--snapshotter");
    Image image;
    try {
      image = root.call(ImagesGrpc.getGetMethod(), GetImageRequest.newBuilder().setName(ref)
          .build()).getImage();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        throw new IllegalStateException("image " + ref + " not found; pull or import it first"
            + " (jctr images pull " + ref + ")");
      }
      throw e;
    }
    JsonObject config = imageConfig(root, image.getTarget().getDigest());
    List<JsonObject> mounts = new ArrayList<>();
    for (String mount : args.values("--mount")) {
      mounts.add(OciSpecs.parseMount(mount));
    }
    JsonObject spec = OciSpecs.build(root.namespace(), id,
        config.has("config") && config.get("config").isJsonObject()
            ? config.getAsJsonObject("config") : null,
        new OciSpecs.Options(args.positionalsFrom(2), args.values("--env"), mounts,
            args.flag("--net-host"), Double.parseDouble(args.value("--cpus")),
            Long.parseLong(args.value("--memory")), args.flag("--tty"), args.value("--cwd")));

    // A lease holds the new snapshot until the container record does: a collection that runs
    // in between (one that another container's removal started) would take it, as ctr's
    // lease prevents in containerd.
    String lease = "jctr-run-" + id + "-" + Long.toHexString(System.nanoTime());
    root.call(LeasesGrpc.getCreateMethod(), CreateRequest.newBuilder().setId(lease)
        .putLabels("containerd.io/gc.expire", Instant.now().plusSeconds(3600).toString())
        .build());
    List<Mount> rootfs;
    try {
      rootfs = root.callInLease(SnapshotsGrpc.getPrepareMethod(),
          PrepareSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(id)
              .setParent(chainId(config)).build(), lease).getMountsList();
      try {
        Container.Builder container = Container.newBuilder().setId(id).setImage(ref)
            .setSnapshotter(snapshotter).setSnapshotKey(id)
            .setSpec(Any.newBuilder().setTypeUrl(TypeUrls.OCI_SPEC)
                .setValue(ByteString.copyFromUtf8(spec.toString())));
        container.setRuntime(ContainersCommand.runtime(args));
        root.call(ContainersGrpc.getCreateMethod(), CreateContainerRequest.newBuilder()
            .setContainer(container).build());
      } catch (RuntimeException e) {
        removeSnapshot(root, snapshotter, id);
        throw e;
      }
    } finally {
      try {
        root.call(LeasesGrpc.getDeleteMethod(), DeleteRequest.newBuilder().setId(lease).build());
      } catch (RuntimeException e) {
        // it expires by itself
      }
    }
    boolean remove = args.flag("--rm");
    boolean detach = args.flag("--detach");
    int status;
    try {
      status = detach ? runDetached(root, id, rootfs, args.flag("--tty"))
          : runAttached(root, id, rootfs, args.flag("--tty"));
    } catch (RuntimeException e) {
      if (remove) {
        cleanUp(root, id, snapshotter);
      }
      throw e;
    }
    if (remove && !detach) {
      cleanUp(root, id, snapshotter);
    }
    return status;
  }

  /** Started and left running; its output goes into fifos that tasks attach reads. */
  private static int runDetached(Jctr root, String id, List<Mount> rootfs, boolean terminal)
      throws IOException, InterruptedException {
    TaskIo io = TaskIo.persistent(root.namespace(), id, terminal);
    try {
      root.call(TasksGrpc.getCreateMethod(), CreateTaskRequest.newBuilder()
          .setContainerId(id).addAllRootfs(rootfs).setTerminal(terminal)
          .setStdin(io.stdin()).setStdout(io.stdout()).setStderr(io.stderr()).build());
    } catch (RuntimeException e) {
      io.close();
      throw e;
    }
    root.call(TasksGrpc.getStartMethod(), StartRequest.newBuilder().setContainerId(id).build());
    return 0;
  }

  /**
   * Output through fifos the task writes straight into (with -t: its terminal, and our stdin
   * in); our exit code is its.
   */
  private static int runAttached(Jctr root, String id, List<Mount> rootfs, boolean terminal)
      throws Exception {
    try (TaskIo io = TaskIo.create(terminal)) {
      io.start();
      root.call(TasksGrpc.getCreateMethod(), CreateTaskRequest.newBuilder().setContainerId(id)
          .addAllRootfs(rootfs).setTerminal(terminal).setStdin(io.stdin())
          .setStdout(io.stdout()).setStderr(io.stderr()).build());
      io.resize(root, id, ""); // the pty exists once the task does: sized before the shell runs
      root.call(TasksGrpc.getStartMethod(), StartRequest.newBuilder().setContainerId(id)
          .build());
      Iterator<WaitResponse> waited = root.stream(TasksGrpc.getWaitMethod(),
          WaitRequest.newBuilder().setContainerId(id).build());
      int status = waited.next().getExitStatus();
      waited.hasNext(); // the call ends with its one answer
      io.finish();
      return status;
    }
  }

  static Thread relay(Path fifo, PrintStream to) {
    return Thread.ofPlatform().daemon().name("relay-" + fifo.getFileName()).start(() -> {
      // opening blocks until the task's side opens the fifo; end of file comes at its exit
      try (InputStream in = new FileInputStream(fifo.toFile())) {
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) > 0) {
          to.write(buffer, 0, n);
          to.flush();
        }
      } catch (IOException e) {
        // the task is gone
      }
    });
  }

  static Path fifo(Path path) throws IOException, InterruptedException {
    Process mkfifo = new ProcessBuilder("mkfifo", "-m", "0600", path.toString())
        .redirectErrorStream(true).start();
    String output = new String(mkfifo.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (mkfifo.waitFor() != 0) {
      throw new IOException("mkfifo " + path + ": " + output.strip());
    }
    return path;
  }

  private static void cleanUp(Jctr root, String id, String snapshotter) {
    try {
      root.call(TasksGrpc.getDeleteMethod(), DeleteTaskRequest.newBuilder().setContainerId(id)
          .build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        throw e;
      }
    }
    root.call(ContainersGrpc.getDeleteMethod(), DeleteContainerRequest.newBuilder().setId(id)
        .build());
    removeSnapshot(root, snapshotter, id);
  }

  private static void removeSnapshot(Jctr root, String snapshotter, String key) {
    try {
      root.call(SnapshotsGrpc.getRemoveMethod(), RemoveSnapshotRequest.newBuilder()
          .setSnapshotter(snapshotter).setKey(key).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        throw e;
      }
    }
  }

  /** The image config for this platform: the index's linux/amd64 (or arm64) manifest's. */
  static JsonObject imageConfig(Jctr root, String digest) throws IOException {
    String arch = System.getProperty("os.arch").equals("aarch64") ? "arm64" : "amd64";
    JsonObject json = JsonParser.parseString(read(root, digest)).getAsJsonObject();
    if (json.has("manifests")) {
      for (JsonElement child : json.getAsJsonArray("manifests")) {
        JsonObject descriptor = child.getAsJsonObject();
        JsonObject platform = descriptor.has("platform")
            ? descriptor.getAsJsonObject("platform") : null;
        if (platform == null || arch.equals(platform.get("architecture").getAsString())) {
          return imageConfig(root, descriptor.get("digest").getAsString());
        }
      }
      throw new IllegalStateException("image index " + digest + " has no linux/" + arch
          + " manifest");
    }
    String config = json.getAsJsonObject("config").get("digest").getAsString();
    return JsonParser.parseString(read(root, config)).getAsJsonObject();
  }

  /** The chain ID of the image's layers: the name its top snapshot was committed under. */
  static String chainId(JsonObject config) throws NoSuchAlgorithmException {
    String chain = "";
    for (JsonElement diffId : config.getAsJsonObject("rootfs").getAsJsonArray("diff_ids")) {
      if (chain.isEmpty()) {
        chain = diffId.getAsString();
      } else {
        byte[] hash = MessageDigest.getInstance("SHA-256").digest((chain + " "
            + diffId.getAsString()).getBytes(StandardCharsets.UTF_8));
        chain = "sha256:" + HexFormat.of().formatHex(hash);
      }
    }
    return chain;
  }

  private static String read(Jctr root, String digest) throws IOException {
    return ImageCheck.readBlob(root, digest);
  }

  /** {@code busybox} is {@code docker.io/library/busybox:latest}, as ctr and docker read it. */
  static String normalize(String ref) {
    return ImageNames.normalize(ref);
  }
}
