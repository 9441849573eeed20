package dev.jctr.cli;

import dev.jctr.api.proto.containerd.services.images.v1.CreateImageRequest;
import dev.jctr.api.proto.containerd.services.images.v1.DeleteImageRequest;
import dev.jctr.api.proto.containerd.services.images.v1.GetImageRequest;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.services.images.v1.ImagesGrpc;
import dev.jctr.api.proto.containerd.services.images.v1.ListImagesRequest;
import dev.jctr.api.proto.jctr.services.images.v1.PullGrpc;
import dev.jctr.api.proto.jctr.services.images.v1.PullProgress;
import dev.jctr.api.proto.jctr.services.images.v1.PullRequest;
import java.util.Iterator;
import java.util.List;

/** {@code jctr images}: image records in the current namespace. */
final class ImagesCommand {

  private ImagesCommand() {}

  static Command command() {
    return Command.named("images", "image", "i")
        .describe("Manage images.")
        .subcommands(
            Command.named("list", "ls").describe("List images: REF, TYPE, DIGEST, LABELS.")
                .option(Option.flag("print only the names", "-q", "--quiet"))
                .positionals("FILTER", 0, Command.MANY, "filters, e.g. name~=busybox")
                .runs(ImagesCommand::list),
            Command.named("pull").describe("Pull an image into jctrd (fetched and unpacked "
                    + "by the daemon).")
                .option(Option.flag("use HTTP, not HTTPS, for the registry", "--plain-http"))
                .option(Option.value("OS/ARCH", "platform (default: the daemon's)",
                    "--platform").withDefault(""))
                .option(Option.value("NAME", "snapshotter to unpack into", "--snapshotter")
                    .withDefault("overlayfs"))
                .option(Option.flag("fetch only, do not unpack", "--skip-unpack"))
                .option(Option.value("USER:PASSWORD", "registry credentials", "-u", "--user")
                    .withDefault(""))
                .positional("REF", "the image, e.g. 127.0.0.1:5000/team/app:1")
                .runs(ImagesCommand::pull),
            Command.named("inspect").describe("Print an image record as JSON.")
                .positional("REF", "the image")
                .runs(ImagesCommand::inspect),
            Command.named("tag").describe("Give an image another name.")
                .option(Option.flag("replace an image already called TARGET", "--force"))
                .positional("SOURCE", "the image")
                .positional("TARGET", "the new name")
                .runs(ImagesCommand::tag),
            Command.named("delete", "rm", "del", "remove").describe("Remove images.")
                .option(Option.flag("return after a garbage collection freed what only it held", "--sync"))
                .positionals("REF", 1, Command.MANY, "the images")
                .runs(ImagesCommand::remove));
  }

  private static int list(Jctr root, Parsed args) {
    List<Image> images = root.call(ImagesGrpc.getListMethod(), ListImagesRequest.newBuilder()
        .addAllFilters(args.positionals()).build()).getImagesList();
    if (root.json()) {
      root.out().println(Json.array(images));
    } else if (args.flag("--quiet")) {
      images.forEach(i -> root.out().println(i.getName()));
    } else {
      Table table = new Table("REF", "TYPE", "DIGEST", "LABELS");
      for (Image image : images) {
        table.row(image.getName(), image.getTarget().getMediaType(),
            image.getTarget().getDigest(),
            image.getLabelsCount() == 0 ? "-" : LabelArgs.format(image.getLabelsMap()));
      }
      table.print(root.out());
    }
    return 0;
  }

  private static int pull(Jctr root, Parsed args) {
    String user = args.value("--user");
    int colon = user.indexOf(':');
    PullRequest request = PullRequest.newBuilder().setRef(args.positional(0))
        .setPlainHttp(args.flag("--plain-http")).setPlatform(args.value("--platform"))
        .setSnapshotter(args.value("--snapshotter")).setSkipUnpack(args.flag("--skip-unpack"))
        .setUsername(colon < 0 ? user : user.substring(0, colon))
        .setPassword(colon < 0 ? "" : user.substring(colon + 1)).build();
    PullDisplay display = new PullDisplay(root.err(), System.console() != null);
    Iterator<PullProgress> updates = root.stream(PullGrpc.getPullMethod(), request);
    Image image = null;
    while (updates.hasNext()) {
      PullProgress update = updates.next();
      if (update.hasImage()) {
        image = update.getImage();
      } else {
        display.update(update);
      }
    }
    display.finish();
    if (image == null) {
      throw new IllegalStateException("jctrd ended the pull without the image");
    }
    root.out().println(image.getName() + " " + image.getTarget().getDigest());
    return 0;
  }

  private static int inspect(Jctr root, Parsed args) {
    Image image = root.call(ImagesGrpc.getGetMethod(), GetImageRequest.newBuilder()
        .setName(args.positional(0)).build()).getImage();
    root.out().println(Json.of(image));
    return 0;
  }

  private static int tag(Jctr root, Parsed args) {
    Image source = root.call(ImagesGrpc.getGetMethod(), GetImageRequest.newBuilder()
        .setName(args.positional(0)).build()).getImage();
    String target = args.positional(1);
    if (args.flag("--force")) {
      try {
        root.call(ImagesGrpc.getDeleteMethod(), DeleteImageRequest.newBuilder()
            .setName(target).build());
      } catch (io.grpc.StatusRuntimeException e) {
        if (e.getStatus().getCode() != io.grpc.Status.Code.NOT_FOUND) {
          throw e;
        }
      }
    }
    root.call(ImagesGrpc.getCreateMethod(), CreateImageRequest.newBuilder()
        .setImage(source.toBuilder().setName(target).clearCreatedAt().clearUpdatedAt())
        .build());
    root.out().println(target);
    return 0;
  }

  private static int remove(Jctr root, Parsed args) {
    for (String name : args.positionals()) {
      root.call(ImagesGrpc.getDeleteMethod(), DeleteImageRequest.newBuilder().setName(name)
          .setSync(args.flag("--sync")).build());
      root.out().println(name);
    }
    return 0;
  }
}
