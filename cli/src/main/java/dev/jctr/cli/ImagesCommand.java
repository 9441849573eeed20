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
import com.google.protobuf.ByteString;
import dev.jctr.api.proto.jctr.services.images.v1.ArchivesGrpc;
import dev.jctr.api.proto.jctr.services.images.v1.ExportChunk;
import dev.jctr.api.proto.jctr.services.images.v1.ExportRequest;
import dev.jctr.api.proto.jctr.services.images.v1.ImportProgress;
import dev.jctr.api.proto.jctr.services.images.v1.ImportRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.List;

/** {@code jctr images}: image records in the current namespace. */
final class ImagesCommand {

  /** Bytes per import message. */
  static final int CHUNK = 1 << 20;

  private ImagesCommand() {}

  static Command command() {
    return Command.named("images", "image", "i")
        .describe("Manage images.")
        .subcommands(
            Command.named("list", "ls").describe("List images: REF, TYPE, DIGEST, LABELS.")
                .option(Option.flag("print only the names", "-q", "--quiet"))
                .positionals("FILTER", 0, Command.MANY, "filters, e.g. name~=busybox")
                .runs(ImagesCommand::list),
            pullCommand(Command.named("pull").describe("Pull an image into jctrd (fetched and "
                + "unpacked by the daemon)."), false),
            Command.named("check").describe("Check that images are complete (index or "
                    + "manifest, config, layers in the store) and unpacked: REF, TYPE, DIGEST, "
                    + "STATUS, SIZE, UNPACKED.")
                .option(Option.value("NAME", "snapshotter to look for unpacked layers in",
                    "--snapshotter").withDefault("overlayfs"))
                .option(Option.flag("print only the names of incomplete images", "-q",
                    "--quiet"))
                .positionals("FILTER", 0, Command.MANY, "filters, e.g. name~=busybox")
                .runs(ImagesCommand::check),
            Command.named("inspect").describe("Print an image record as JSON.")
                .positional("REF", "the image")
                .runs(ImagesCommand::inspect),
            Command.named("tag").describe("Give an image another name.")
                .option(Option.flag("replace an image already called TARGET", "--force"))
                .positional("SOURCE", "the image")
                .positional("TARGET", "the new name")
                .runs(ImagesCommand::tag),
            Command.named("import").describe("Import images from an archive: an OCI image "
                    + "layout tar or a docker save tar ('-' reads standard input).")
                .option(Option.value("NAME", "name images the archive tags only by tag as "
                    + "NAME:TAG", "--base-name").withDefault(""))
                .option(Option.value("OS/ARCH", "platform to unpack (default: the daemon's)",
                    "--platform").withDefault(""))
                .option(Option.value("NAME", "snapshotter to unpack into", "--snapshotter")
                    .withDefault("overlayfs"))
                .option(Option.flag("store only, do not unpack", "--no-unpack"))
                .positional("FILE", "the archive")
                .runs(ImagesCommand::importArchive),
            Command.named("export").describe("Export images as one archive, both an OCI image"
                    + " layout and a docker save tar ('-' writes standard output).")
                .option(Option.value("OS/ARCH", "platform of an index to export (default: the "
                    + "daemon's)", "--platform").withDefault(""))
                .option(Option.flag("export every platform of an index", "--all-platforms"))
                .positional("FILE", "where to write the archive")
                .positionals("REF", 1, Command.MANY, "the images")
                .runs(ImagesCommand::exportArchive),
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

  private static int pull(Jctr root, Parsed args, boolean fetchOnly) {
    String user = args.value("--user");
    int colon = user.indexOf(':');
    PullRequest request = PullRequest.newBuilder().setRef(args.positional(0))
        .setPlainHttp(args.flag("--plain-http")).setPlatform(args.value("--platform"))
        .setSnapshotter(fetchOnly ? "" : args.value("--snapshotter"))
        .setSkipUnpack(fetchOnly || args.flag("--skip-unpack"))
        .setUsername(colon < 0 ? user : user.substring(0, colon))
        .setPassword(colon < 0 ? "" : user.substring(colon + 1))
        .setHostsDir(args.value("--hosts-dir").isEmpty() ? ""
            : Path.of(args.value("--hosts-dir")).toAbsolutePath().toString()).build();
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
    root.out().println(root.json() ? Json.of(image)
        : image.getName() + " " + image.getTarget().getDigest());
    return 0;
  }

  /** The pull options on {@code command}; a fetch ({@code fetchOnly}) never unpacks. */
  static Command pullCommand(Command command, boolean fetchOnly) {
    command.option(Option.flag("use HTTP, not HTTPS, for the registry", "--plain-http"))
        .option(Option.value("OS/ARCH", "platform (default: the daemon's)", "--platform")
            .withDefault(""))
        .option(Option.value("USER:PASSWORD", "registry credentials", "-u", "--user")
            .withDefault(""))
        .option(Option.value("DIR", "hosts directory: DIR/<host>/hosts.toml names mirrors, CA "
            + "files, skip_verify (default: jctrd's config_path)", "--hosts-dir")
            .withDefault(""))
        .positional("REF", "the image, e.g. 127.0.0.1:5000/team/app:1");
    if (!fetchOnly) {
      command.option(Option.value("NAME", "snapshotter to unpack into", "--snapshotter")
              .withDefault("overlayfs"))
          .option(Option.flag("fetch only, do not unpack", "--skip-unpack"));
    }
    return command.runs((root, args) -> pull(root, args, fetchOnly));
  }

  private static int importArchive(Jctr root, Parsed args) throws IOException {
    String file = args.positional(0);
    long size = file.equals("-") ? 0 : Files.size(Path.of(file));
    InputStream in = file.equals("-") ? System.in : Files.newInputStream(Path.of(file));
    UploadDisplay upload = new UploadDisplay(root.err(), System.console() != null, file, size);
    ImportRequest first = ImportRequest.newBuilder().setBaseName(args.value("--base-name"))
        .setPlatform(args.value("--platform")).setSnapshotter(args.value("--snapshotter"))
        .setSkipUnpack(args.flag("--no-unpack")).build();
    Iterator<ImportRequest> chunks = new Iterator<>() {
      private byte[] next = read();
      private boolean firstSent;

      private byte[] read() {
        try {
          byte[] chunk = in.readNBytes(CHUNK);
          upload.sent(chunk.length);
          return chunk.length == 0 ? null : chunk;
        } catch (IOException e) {
          throw new UncheckedIOException("read " + file + ": " + e.getMessage(), e);
        }
      }

      @Override
      public boolean hasNext() {
        return next != null || !firstSent;
      }

      @Override
      public ImportRequest next() {
        ImportRequest.Builder request = firstSent ? ImportRequest.newBuilder()
            : first.toBuilder();
        firstSent = true;
        if (next != null) {
          request.setData(ByteString.copyFrom(next));
          next = read();
        }
        return request.build();
      }
    };
    List<Image> images = List.of();
    try (in) {
      Iterator<ImportProgress> updates = root.upload(ArchivesGrpc.getImportMethod(), chunks);
      upload.finish();
      PullDisplay display = new PullDisplay(root.err(), System.console() != null);
      while (updates.hasNext()) {
        ImportProgress update = updates.next();
        if (update.getImagesCount() > 0 || update.getStatus().equals("done")) {
          images = update.getImagesList();
        } else if (!update.getStatus().equals("stored")) {
          display.update(PullProgress.newBuilder().setRef(update.getRef())
              .setStatus(update.getStatus()).setOffset(update.getOffset())
              .setTotal(update.getTotal()).build());
        }
      }
    }
    if (root.json()) {
      root.out().println(Json.array(images));
    } else {
      images.forEach(i -> root.out().println(i.getName() + " " + i.getTarget().getDigest()));
    }
    return 0;
  }

  private static int exportArchive(Jctr root, Parsed args) throws IOException {
    String file = args.positional(0);
    ExportRequest request = ExportRequest.newBuilder()
        .addAllNames(args.positionals().subList(1, args.positionals().size()))
        .setPlatform(args.value("--platform")).setAllPlatforms(args.flag("--all-platforms"))
        .build();
    Iterator<ExportChunk> chunks = root.stream(ArchivesGrpc.getExportMethod(), request);
    Path target = file.equals("-") ? null : Path.of(file);
    Path partial = target == null ? null
        : target.resolveSibling("." + target.getFileName() + ".partial");
    long written = 0;
    // the archive appears only complete: written aside, then renamed into place
    try (OutputStream out = target == null ? System.out : Files.newOutputStream(partial)) {
      while (chunks.hasNext()) {
        ExportChunk chunk = chunks.next();
        chunk.getData().writeTo(out);
        written += chunk.getData().size();
      }
    } catch (RuntimeException | IOException e) {
      if (partial != null) {
        Files.deleteIfExists(partial);
      }
      throw e;
    }
    if (target != null) {
      Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
      root.err().println("exported " + (args.positionals().size() - 1) + " image(s) to " + file
          + " (" + SnapshotsCommand.humanSize(written) + ")");
      root.err().flush();
    }
    return 0;
  }

  private static int check(Jctr root, Parsed args) throws IOException {
    List<Image> images = root.call(ImagesGrpc.getListMethod(), ListImagesRequest.newBuilder()
        .addAllFilters(args.positionals()).build()).getImagesList();
    ImageCheck checker = new ImageCheck(root, args.value("--snapshotter"));
    Table table = new Table("REF", "TYPE", "DIGEST", "STATUS", "SIZE", "UNPACKED");
    boolean allComplete = true;
    for (Image image : images) {
      ImageCheck.Result result = checker.check(image);
      boolean complete = result.present() == result.needed();
      allComplete &= complete;
      if (args.flag("--quiet")) {
        if (!complete) {
          root.out().println(image.getName());
        }
        continue;
      }
      table.row(image.getName(), image.getTarget().getMediaType(),
          image.getTarget().getDigest(), result.status(),
          SnapshotsCommand.humanSize(result.size()), Boolean.toString(result.unpacked()));
    }
    if (!args.flag("--quiet")) {
      table.print(root.out());
    }
    return allComplete ? 0 : 1;
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
