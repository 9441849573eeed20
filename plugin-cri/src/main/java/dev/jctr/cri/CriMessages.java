package dev.jctr.cri;

import com.google.gson.JsonObject;
import dev.jctr.api.proto.cri.v1.ContainerMetadata;
import dev.jctr.api.proto.cri.v1.ContainerResources;
import dev.jctr.api.proto.cri.v1.ContainerStatus;
import dev.jctr.api.proto.cri.v1.ImageSpec;
import dev.jctr.api.proto.cri.v1.LinuxPodSandboxStatus;
import dev.jctr.api.proto.cri.v1.Mount;
import dev.jctr.api.proto.cri.v1.Namespace;
import dev.jctr.api.proto.cri.v1.PodIP;
import dev.jctr.api.proto.cri.v1.PodSandbox;
import dev.jctr.api.proto.cri.v1.PodSandboxNetworkStatus;
import dev.jctr.api.proto.cri.v1.PodSandboxStatus;
import dev.jctr.cri.store.CriContainer;
import java.util.List;

/** The CRI's answers built from the pods and containers it keeps. */
final class CriMessages {

  private CriMessages() {}

  static PodSandboxStatus status(dev.jctr.cri.store.PodSandbox sandbox) {
    PodSandboxStatus.Builder status = PodSandboxStatus.newBuilder().setId(sandbox.id())
        .setMetadata(sandbox.config().getMetadata()).setState(sandbox.state())
        .setCreatedAt(sandbox.createdAt()).putAllLabels(sandbox.config().getLabelsMap())
        .putAllAnnotations(sandbox.config().getAnnotationsMap())
        .setRuntimeHandler(sandbox.runtimeHandler());
    List<String> ips = sandbox.ips();
    PodSandboxNetworkStatus.Builder network = PodSandboxNetworkStatus.newBuilder();
    if (!ips.isEmpty()) {
      network.setIp(ips.get(0));
      ips.stream().skip(1).forEach(ip -> network.addAdditionalIps(PodIP.newBuilder().setIp(ip)));
    }
    status.setNetwork(network);
    if (sandbox.config().hasLinux()) {
      status.setLinux(LinuxPodSandboxStatus.newBuilder().setNamespaces(Namespace.newBuilder()
          .setOptions(sandbox.config().getLinux().getSecurityContext().getNamespaceOptions())));
    }
    return status.build();
  }

  static PodSandbox item(dev.jctr.cri.store.PodSandbox sandbox) {
    return PodSandbox.newBuilder().setId(sandbox.id()).setMetadata(sandbox.config()
        .getMetadata()).setState(sandbox.state()).setCreatedAt(sandbox.createdAt())
        .putAllLabels(sandbox.config().getLabelsMap())
        .putAllAnnotations(sandbox.config().getAnnotationsMap())
        .setRuntimeHandler(sandbox.runtimeHandler()).build();
  }

  static ContainerStatus status(CriContainer container) {
    ContainerStatus.Builder status = ContainerStatus.newBuilder().setId(container.id())
        .setMetadata(metadata(container)).setState(container.state())
        .setCreatedAt(container.createdAt()).setStartedAt(container.startedAt())
        .setFinishedAt(container.finishedAt()).setExitCode(container.exitCode())
        .setImage(ImageSpec.newBuilder().setImage(container.imageName()))
        .setImageRef(container.imageRef()).setImageId(container.imageRef())
        .setReason(container.reason()).setMessage(container.message())
        .putAllLabels(container.config().getLabelsMap())
        .putAllAnnotations(container.config().getAnnotationsMap())
        .setLogPath(container.logPath());
    for (var mount : container.config().getMountsList()) {
      status.addMounts(Mount.newBuilder().setContainerPath(mount.getContainerPath())
          .setHostPath(mount.getHostPath()).setReadonly(mount.getReadonly())
          .setPropagation(mount.getPropagation()));
    }
    if (container.config().hasLinux() && container.config().getLinux().hasResources()) {
      status.setResources(ContainerResources.newBuilder().setLinux(container.config()
          .getLinux().getResources()));
    }
    return status.build();
  }

  static dev.jctr.api.proto.cri.v1.Container item(CriContainer container) {
    return dev.jctr.api.proto.cri.v1.Container.newBuilder().setId(container.id())
        .setPodSandboxId(container.sandboxId()).setMetadata(metadata(container))
        .setImage(ImageSpec.newBuilder().setImage(container.imageName()))
        .setImageRef(container.imageRef()).setImageId(container.imageRef())
        .setState(container.state()).setCreatedAt(container.createdAt())
        .putAllLabels(container.config().getLabelsMap())
        .putAllAnnotations(container.config().getAnnotationsMap()).build();
  }

  static ContainerMetadata metadata(CriContainer container) {
    return container.config().getMetadata();
  }

  /** The verbose {@code info} of a sandbox, as JSON under key "info". */
  static JsonObject info(dev.jctr.cri.store.PodSandbox sandbox, String runtime) {
    JsonObject info = new JsonObject();
    info.addProperty("pid", sandbox.pid());
    info.addProperty("netNamespacePath", sandbox.netns() == null ? "" : sandbox.netns());
    info.addProperty("runtimeType", runtime);
    info.addProperty("image", sandbox.image());
    info.addProperty("cgroupParent", sandbox.cgroupParent());
    return info;
  }
}
