package dev.jctr.cli;

import dev.jctr.api.proto.cri.v1.ContainerConfig;
import dev.jctr.api.proto.cri.v1.ContainerMetadata;
import dev.jctr.api.proto.cri.v1.ContainerStatusRequest;
import dev.jctr.api.proto.cri.v1.CreateContainerRequest;
import dev.jctr.api.proto.cri.v1.ImageSpec;
import dev.jctr.api.proto.cri.v1.ImageStatusRequest;
import dev.jctr.api.proto.cri.v1.ImageServiceGrpc;
import dev.jctr.api.proto.cri.v1.LinuxPodSandboxConfig;
import dev.jctr.api.proto.cri.v1.ListContainersRequest;
import dev.jctr.api.proto.cri.v1.ListPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.PodSandboxConfig;
import dev.jctr.api.proto.cri.v1.PodSandboxMetadata;
import dev.jctr.api.proto.cri.v1.PodSandboxStatusRequest;
import dev.jctr.api.proto.cri.v1.RemoveContainerRequest;
import dev.jctr.api.proto.cri.v1.RemovePodSandboxRequest;
import dev.jctr.api.proto.cri.v1.RunPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.RuntimeServiceGrpc;
import dev.jctr.api.proto.cri.v1.StartContainerRequest;
import dev.jctr.api.proto.cri.v1.StatusRequest;
import dev.jctr.api.proto.cri.v1.StopContainerRequest;
import dev.jctr.api.proto.cri.v1.StopPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.VersionRequest;
import dev.jctr.cli.transport.GrpcConnection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The workload of jctrd's training run ({@code jctrd train}, behind the daemon's AOT cache): a
 * kubelet's calls over the CRI socket, for pods whose sandbox and one container both run the
 * given image: Version and Status as at registration, then each pod's RunPodSandbox,
 * CreateContainer, StartContainer, the status and list calls of a kubelet's sync, and its
 * StopContainer, RemoveContainer, StopPodSandbox, RemovePodSandbox; four pods at a time. A
 * failed call ends the run with an error.
 *
 * <p>Usage: {@code DaemonTraining SOCKET IMAGE PODS LOGDIR}
 */
public final class DaemonTraining {

  private static final long TIMEOUT = TimeUnit.MINUTES.toNanos(2);
  private static final int PARALLEL = 4;

  private DaemonTraining() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: DaemonTraining SOCKET IMAGE PODS LOGDIR");
      System.exit(2);
    }
    Path socket = Path.of(args[0]);
    String image = args[1];
    int pods = Integer.parseInt(args[2]);
    Path logs = Path.of(args[3]);
    GrpcConnection kubelet = GrpcConnection.open(socket);
    kubelet.unary(RuntimeServiceGrpc.getVersionMethod(), VersionRequest.newBuilder()
        .setVersion("v1").build(), Map.of(), TIMEOUT);
    kubelet.unary(RuntimeServiceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance(),
        Map.of(), TIMEOUT);
    kubelet.unary(ImageServiceGrpc.getImageStatusMethod(), ImageStatusRequest.newBuilder()
        .setImage(ImageSpec.newBuilder().setImage(image)).build(), Map.of(), TIMEOUT);
    kubelet.close();

    AtomicInteger next = new AtomicInteger();
    try (ExecutorService workers = Executors.newFixedThreadPool(PARALLEL)) {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < PARALLEL; w++) {
        done.add(workers.submit(() -> {
          GrpcConnection connection = GrpcConnection.open(socket);
          try {
            for (int pod = next.getAndIncrement(); pod < pods; pod = next.getAndIncrement()) {
              lifecycle(connection, pod, image, logs);
            }
          } finally {
            connection.close();
          }
          return null;
        }));
      }
      for (Future<?> worker : done) {
        worker.get();
      }
    }
    System.out.println("trained on " + pods + " pods");
  }

  private static void lifecycle(GrpcConnection c, int n, String image, Path logs) {
    PodSandboxConfig pod = PodSandboxConfig.newBuilder()
        .setMetadata(PodSandboxMetadata.newBuilder().setName("training-" + n)
            .setNamespace("training").setUid("training-uid-" + n))
        .setHostname("training-" + n).setLogDirectory(logs.resolve("pod-" + n).toString())
        .setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent("/jctr-training/pod" + n))
        .build();
    String sandbox = c.unary(RuntimeServiceGrpc.getRunPodSandboxMethod(), RunPodSandboxRequest
        .newBuilder().setConfig(pod).build(), Map.of(), TIMEOUT).getPodSandboxId();
    String container = c.unary(RuntimeServiceGrpc.getCreateContainerMethod(),
        CreateContainerRequest.newBuilder().setPodSandboxId(sandbox).setSandboxConfig(pod)
            .setConfig(ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName("app"))
                .setImage(ImageSpec.newBuilder().setImage(image)).setLogPath("app/0.log"))
            .build(), Map.of(), TIMEOUT).getContainerId();
    c.unary(RuntimeServiceGrpc.getStartContainerMethod(), StartContainerRequest.newBuilder()
        .setContainerId(container).build(), Map.of(), TIMEOUT);
    c.unary(RuntimeServiceGrpc.getPodSandboxStatusMethod(), PodSandboxStatusRequest
        .newBuilder().setPodSandboxId(sandbox).build(), Map.of(), TIMEOUT);
    c.unary(RuntimeServiceGrpc.getContainerStatusMethod(), ContainerStatusRequest.newBuilder()
        .setContainerId(container).build(), Map.of(), TIMEOUT);
    c.unary(RuntimeServiceGrpc.getListPodSandboxMethod(),
        ListPodSandboxRequest.getDefaultInstance(), Map.of(), TIMEOUT);
    c.unary(RuntimeServiceGrpc.getListContainersMethod(),
        ListContainersRequest.getDefaultInstance(), Map.of(), TIMEOUT);
    c.unary(RuntimeServiceGrpc.getStopContainerMethod(), StopContainerRequest.newBuilder()
        .setContainerId(container).setTimeout(1).build(), Map.of(), TIMEOUT);
    c.unary(RuntimeServiceGrpc.getRemoveContainerMethod(), RemoveContainerRequest.newBuilder()
        .setContainerId(container).build(), Map.of(), TIMEOUT);
    c.unary(RuntimeServiceGrpc.getStopPodSandboxMethod(), StopPodSandboxRequest.newBuilder()
        .setPodSandboxId(sandbox).build(), Map.of(), TIMEOUT);
    c.unary(RuntimeServiceGrpc.getRemovePodSandboxMethod(), RemovePodSandboxRequest
        .newBuilder().setPodSandboxId(sandbox).build(), Map.of(), TIMEOUT);
  }
}
