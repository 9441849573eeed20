package dev.jctr.cri;

import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.identifiers.ImageNames;
import dev.jctr.api.images.ImageCatalog;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.cri.v1.FilesystemIdentifier;
import dev.jctr.api.proto.cri.v1.FilesystemUsage;
import dev.jctr.api.proto.cri.v1.Image;
import dev.jctr.api.proto.cri.v1.ImageFsInfoRequest;
import dev.jctr.api.proto.cri.v1.ImageFsInfoResponse;
import dev.jctr.api.proto.cri.v1.ImageServiceGrpc;
import dev.jctr.api.proto.cri.v1.ImageStatusRequest;
import dev.jctr.api.proto.cri.v1.ImageStatusResponse;
import dev.jctr.api.proto.cri.v1.ListImagesRequest;
import dev.jctr.api.proto.cri.v1.ListImagesResponse;
import dev.jctr.api.proto.cri.v1.PullImageRequest;
import dev.jctr.api.proto.cri.v1.PullImageResponse;
import dev.jctr.api.proto.cri.v1.RemoveImageRequest;
import dev.jctr.api.proto.cri.v1.RemoveImageResponse;
import dev.jctr.api.proto.cri.v1.StreamImagesRequest;
import dev.jctr.api.proto.cri.v1.StreamImagesResponse;
import dev.jctr.api.proto.cri.v1.UInt64Value;
import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * CRI {@code runtime.v1.ImageService} on jctrd's socket, over the images of namespace
 * {@code k8s.io}: pulls go through jctrd's own puller (unpacked into overlayfs), removal is
 * idempotent, status of an unknown image is an empty answer (as the kubelet expects).
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.cri-images",
    configurationPid = "io.containerd.grpc.v1.cri")
@Plugin(type = PluginTypes.GRPC, id = "cri-images", requires = {PluginTypes.METADATA})
public final class CriImageService implements ImageServiceGrpc.AsyncService, BindableService {

  private final ImageCatalog catalog;
  private final CriImages images;
  private final CriPuller puller;
  private final String snapshotter;
  private final Path snapshotterRoot;

  /** Configured by the CRI's own section (registry, snapshotter), as containerd's is. */
  @Activate
  public CriImageService(@Reference ImageCatalog catalog,
      @Reference DaemonEnvironment environment, Map<String, Object> properties)
      throws IOException {
    CriConfig config = CriConfig.from(properties);
    this.catalog = catalog;
    this.images = new CriImages(catalog);
    this.snapshotter = config.snapshotter();
    this.puller = new CriPuller(catalog, config,
        environment.pluginRoot(PluginTypes.GRPC, "cri-images").resolve("hosts.d"));
    this.snapshotterRoot = environment.pluginRoot(PluginTypes.SNAPSHOTTER, snapshotter);
  }

  @Override
  public ServerServiceDefinition bindService() {
    return ImageServiceGrpc.bindService(this);
  }

  private static <T> void reply(StreamObserver<T> response, T message) {
    response.onNext(message);
    response.onCompleted();
  }

  @Override
  public void listImages(ListImagesRequest request,
      StreamObserver<ListImagesResponse> response) {
    reply(response, ListImagesResponse.newBuilder().addAllImages(matching(request.hasFilter()
        ? request.getFilter().getImage().getImage() : "")).build());
  }

  /** StreamImages: the same listing, in batches of 100 (a large node's images in pieces). */
  @Override
  public void streamImages(StreamImagesRequest request,
      StreamObserver<StreamImagesResponse> response) {
    List<Image> all = matching(request.hasFilter() ? request.getFilter().getImage().getImage()
        : "");
    for (int from = 0; from < all.size(); from += 100) {
      response.onNext(StreamImagesResponse.newBuilder().addAllImages(
          all.subList(from, Math.min(all.size(), from + 100))).build());
    }
    response.onCompleted();
  }

  /** Every image, or those {@code wanted} names by id, tag or repo digest. */
  private List<Image> matching(String wanted) {
    List<Image> all = images.list();
    return wanted.isEmpty() ? all
        : all.stream().filter(image -> CriImages.names(image, wanted)).toList();
  }

  @Override
  public void imageStatus(ImageStatusRequest request,
      StreamObserver<ImageStatusResponse> response) {
    String ref = requireImage(request.getImage().getImage());
    ImageStatusResponse.Builder status = ImageStatusResponse.newBuilder();
    try {
      Image image = images.find(ref).image();
      status.setImage(image);
      if (request.getVerbose()) {
        status.putInfo("info", "{\"id\":\"" + image.getId() + "\",\"snapshotter\":\""
            + snapshotter + "\"}");
      }
    } catch (NotFoundException e) {
      // no image: an answer without one, not an error
    }
    reply(response, status.build());
  }

  @Override
  public void pullImage(PullImageRequest request, StreamObserver<PullImageResponse> response) {
    String ref = ImageNames.normalize(requireImage(request.getImage().getImage()));
    String username = request.getAuth().getUsername();
    String password = request.getAuth().getPassword();
    if (username.isEmpty() && !request.getAuth().getAuth().isEmpty()) {
      RegistryConfig.Credentials decoded = RegistryConfig.decodeAuth(request.getAuth().getAuth());
      if (decoded == null) {
        throw new InvalidArgumentException("auth: not base64 of user:password");
      }
      username = decoded.username();
      password = decoded.password();
    }
    if (password.isEmpty() && !request.getAuth().getIdentityToken().isEmpty()) {
      password = request.getAuth().getIdentityToken();
    }
    try {
      var record = puller.pull(ref, username, password);
      reply(response, PullImageResponse.newBuilder()
          .setImageRef(images.resolve(record).configDigest()).build());
    } catch (IOException e) {
      throw new UncheckedIOException("pull " + ref + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void removeImage(RemoveImageRequest request,
      StreamObserver<RemoveImageResponse> response) {
    String ref = requireImage(request.getImage().getImage());
    try {
      for (String name : images.find(ref).records()) {
        try {
          catalog.delete(CriImages.NAMESPACE, name);
        } catch (NotFoundException e) {
          // removed meanwhile: removal is idempotent
        }
      }
    } catch (NotFoundException e) {
      // already gone: removal is idempotent
    }
    reply(response, RemoveImageResponse.getDefaultInstance());
  }

  @Override
  public void imageFsInfo(ImageFsInfoRequest request,
      StreamObserver<ImageFsInfoResponse> response) {
    long[] usage = usage(snapshotterRoot);
    FilesystemUsage fs = FilesystemUsage.newBuilder()
        .setTimestamp(System.currentTimeMillis() * 1_000_000L)
        .setFsId(FilesystemIdentifier.newBuilder().setMountpoint(snapshotterRoot.toString()))
        .setUsedBytes(UInt64Value.newBuilder().setValue(usage[0]))
        .setInodesUsed(UInt64Value.newBuilder().setValue(usage[1])).build();
    reply(response, ImageFsInfoResponse.newBuilder().addImageFilesystems(fs).build());
  }

  /** Bytes and inodes under {@code root} (the snapshotter's, where images are unpacked). */
  private static long[] usage(Path root) {
    long[] totals = new long[2];
    if (!Files.isDirectory(root)) {
      return totals;
    }
    try (Stream<Path> files = Files.walk(root)) {
      files.forEach(path -> {
        totals[1]++;
        try {
          if (Files.isRegularFile(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            totals[0] += Files.size(path);
          }
        } catch (IOException e) {
          // removed while walking
        }
      });
    } catch (IOException | UncheckedIOException e) {
      // a snapshot removed while walking: the figure is an estimate anyway
    }
    return totals;
  }

  private static String requireImage(String image) {
    if (image == null || image.isEmpty()) {
      throw new InvalidArgumentException("image must be named (ImageSpec.image)");
    }
    return image;
  }
}
