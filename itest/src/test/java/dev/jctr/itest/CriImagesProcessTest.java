package dev.jctr.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.proto.cri.v1.CgroupDriver;
import dev.jctr.api.proto.cri.v1.Image;
import dev.jctr.api.proto.cri.v1.ImageFilter;
import dev.jctr.api.proto.cri.v1.ImageFsInfoRequest;
import dev.jctr.api.proto.cri.v1.ImageServiceGrpc;
import dev.jctr.api.proto.cri.v1.ImageSpec;
import dev.jctr.api.proto.cri.v1.ImageStatusRequest;
import dev.jctr.api.proto.cri.v1.ListImagesRequest;
import dev.jctr.api.proto.cri.v1.PullImageRequest;
import dev.jctr.api.proto.cri.v1.RemoveImageRequest;
import dev.jctr.api.proto.cri.v1.RunPodSandboxRequest;
import dev.jctr.api.proto.cri.v1.RuntimeConfigRequest;
import dev.jctr.api.proto.cri.v1.RuntimeServiceGrpc;
import dev.jctr.api.proto.cri.v1.StatusRequest;
import dev.jctr.api.proto.cri.v1.StreamImagesRequest;
import dev.jctr.api.proto.cri.v1.VersionRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CRI as the kubelet speaks it, through the project's generated runtime.v1 client on
 * jctrd's socket (no namespace header: the CRI lives in k8s.io): Version, Status,
 * RuntimeConfig; PullImage from Debian's docker-registry, ListImages, ImageStatus, RemoveImage
 * (idempotent), ImageFsInfo; images in k8s.io only.
 */
class CriImagesProcessTest {

  private static final java.time.Duration READY = java.time.Duration.ofSeconds(20);

  @Test
  void theImageLifecycleAsTheKubeletDrivesIt(@TempDir Path dir) throws Exception {
    OciArchive.Built built = OciArchive.image("unused", List.of(
        List.of(OciArchive.Entry.file("etc/", ""), OciArchive.Entry.file("etc/motd", "cri\n"))));
    try (DaemonProcess daemon = DaemonProcess.start(dir).awaitReady(READY)
            .awaitServing(READY, "images", "ls");
        LocalRegistry registry = LocalRegistry.start(Files.createDirectories(
            dir.resolve("registry")));
        DaemonClient client = new DaemonClient(daemon.socket())) {
      String ref = registry.push("team/cri", "1", built);
      var runtime = RuntimeServiceGrpc.newBlockingStub(client.channel());
      var images = ImageServiceGrpc.newBlockingStub(client.channel());

      var version = runtime.version(VersionRequest.newBuilder().setVersion("v1").build());
      assertEquals("jctr", version.getRuntimeName());
      assertEquals("v1", version.getRuntimeApiVersion());
      var status = runtime.status(StatusRequest.getDefaultInstance()).getStatus();
      assertTrue(status.getConditionsList().stream().anyMatch(c ->
          c.getType().equals("RuntimeReady") && c.getStatus()), status.toString());
      assertEquals(CgroupDriver.CGROUPFS, runtime.runtimeConfig(
          RuntimeConfigRequest.getDefaultInstance()).getLinux().getCgroupDriver());
      StatusRuntimeException pods = assertThrows(StatusRuntimeException.class,
          () -> runtime.runPodSandbox(RunPodSandboxRequest.getDefaultInstance()));
      assertEquals(Status.Code.INVALID_ARGUMENT, pods.getStatus().getCode(),
          "a pod config without metadata");

      // unknown image: an empty status, not an error
      assertFalse(images.imageStatus(ImageStatusRequest.newBuilder().setImage(spec(ref))
          .build()).hasImage());
      String id = images.pullImage(PullImageRequest.newBuilder().setImage(spec(ref)).build())
          .getImageRef();
      String config = com.google.gson.JsonParser.parseString(new String(built.manifest(),
          java.nio.charset.StandardCharsets.UTF_8)).getAsJsonObject().getAsJsonObject("config")
          .get("digest").getAsString();
      assertEquals(config, id, "the image id is its config's digest");

      List<Image> listed = images.listImages(ListImagesRequest.getDefaultInstance())
          .getImagesList();
      assertEquals(1, listed.size(), listed.toString());
      Image image = listed.get(0);
      assertEquals(id, image.getId());
      assertEquals(List.of(ref), image.getRepoTagsList());
      assertEquals(List.of(ref.substring(0, ref.lastIndexOf(':')) + "@"
          + built.manifestDigest()), image.getRepoDigestsList());
      assertTrue(image.getSize() > 0);
      var streamed = images.streamImages(StreamImagesRequest.getDefaultInstance());
      assertEquals(List.of(image), streamed.next().getImagesList());
      assertFalse(streamed.hasNext());
      assertEquals(1, images.listImages(ListImagesRequest.newBuilder().setFilter(
          ImageFilter.newBuilder().setImage(spec(ref))).build()).getImagesCount());
      assertEquals(0, images.listImages(ListImagesRequest.newBuilder().setFilter(
          ImageFilter.newBuilder().setImage(spec("other/image:1"))).build()).getImagesCount());
      // found by id, by tag and by repo digest
      for (String name : List.of(id, ref, image.getRepoDigests(0))) {
        assertEquals(id, images.imageStatus(ImageStatusRequest.newBuilder()
            .setImage(spec(name)).setVerbose(true).build()).getImage().getId(), name);
      }
      // unpacked for containers, in k8s.io only
      assertTrue(daemon.jctr("-n", "k8s.io", "images", "check").stdout().contains("true"),
          "unpacked");
      assertEquals("", daemon.jctr("-n", "moby", "images", "ls", "-q").stdout().strip());

      var fs = images.imageFsInfo(ImageFsInfoRequest.getDefaultInstance());
      assertEquals(1, fs.getImageFilesystemsCount());
      assertTrue(fs.getImageFilesystems(0).getUsedBytes().getValue() > 0, fs.toString());

      images.removeImage(RemoveImageRequest.newBuilder().setImage(spec(id)).build());
      assertEquals(0, images.listImages(ListImagesRequest.getDefaultInstance())
          .getImagesCount());
      images.removeImage(RemoveImageRequest.newBuilder().setImage(spec(id)).build());

      StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
          () -> images.pullImage(PullImageRequest.newBuilder()
              .setImage(spec(registry.host() + "/team/absent:1")).build()));
      assertEquals(Status.Code.NOT_FOUND, missing.getStatus().getCode(), missing.getMessage());
      StatusRuntimeException unnamed = assertThrows(StatusRuntimeException.class,
          () -> images.pullImage(PullImageRequest.getDefaultInstance()));
      assertEquals(Status.Code.INVALID_ARGUMENT, unnamed.getStatus().getCode());
    }
  }

  /**
   * {@code [plugins."io.containerd.grpc.v1.cri".registry]}: an image of a registry that does
   * not exist comes from its mirror; a token-auth registry is pulled from with the configured
   * credentials when the kubelet sends none.
   */
  @Test
  void pullsFollowTheRegistrySectionsMirrorsAndCredentials(@TempDir Path dir) throws Exception {
    OciArchive.Built mirrored = OciArchive.image("unused", List.of(
        List.of(OciArchive.Entry.file("mirrored.txt", "from the mirror\n"))));
    OciArchive.Built secret = OciArchive.image("unused", List.of(
        List.of(OciArchive.Entry.file("secret.txt", "for members\n"))));
    try (TokenServer tokens = TokenServer.start(Files.createDirectories(dir.resolve("tokens")),
            "tester", "s3cret");
        LocalRegistry guarded = LocalRegistry.start(Files.createDirectories(
            dir.resolve("guarded")), tokens.registryConfig());
        LocalRegistry mirror = LocalRegistry.start(Files.createDirectories(
            dir.resolve("mirror")))) {
      mirror.push("team/mirrored", "1", mirrored);
      String secretRef = guarded.push("private/app", "1", secret,
          "Bearer " + tokens.mint("private/app", "tester"));
      Path config = Files.writeString(dir.resolve("config.toml"), String.join("\n",
          "version = 2",
          "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"mirror-only.invalid\"]",
          "  endpoint = [\"http://" + mirror.host() + "\"]",
          "[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"" + guarded.host()
              + "\".auth]",
          "  username = \"tester\"",
          "  password = \"s3cret\"", ""));
      try (DaemonProcess daemon = DaemonProcess.start(dir, "--config", config.toString())
              .awaitReady(READY).awaitServing(READY, "images", "ls");
          DaemonClient client = new DaemonClient(daemon.socket())) {
        var images = ImageServiceGrpc.newBlockingStub(client.channel());
        String viaMirror = "mirror-only.invalid/team/mirrored:1";
        String id = images.pullImage(PullImageRequest.newBuilder().setImage(spec(viaMirror))
            .build()).getImageRef();
        Image pulled = images.imageStatus(ImageStatusRequest.newBuilder()
            .setImage(spec(viaMirror)).build()).getImage();
        assertEquals(id, pulled.getId());
        assertEquals(List.of(viaMirror), pulled.getRepoTagsList());

        StatusRuntimeException elsewhere = assertThrows(StatusRuntimeException.class,
            () -> images.pullImage(PullImageRequest.newBuilder()
                .setImage(spec("no-mirror.invalid/team/mirrored:1")).build()));
        assertTrue(elsewhere.getMessage().contains("no-mirror.invalid"),
            "only the configured host has a mirror: " + elsewhere.getMessage());

        assertTrue(images.pullImage(PullImageRequest.newBuilder().setImage(spec(secretRef))
            .build()).getImageRef().startsWith("sha256:"), "configured credentials");
        assertTrue(tokens.issued >= 1, "a token was fetched with the configured credentials");
        assertEquals(2, images.listImages(ListImagesRequest.getDefaultInstance())
            .getImagesCount());
      }
    }
  }

  private static ImageSpec spec(String image) {
    return ImageSpec.newBuilder().setImage(image).build();
  }
}
