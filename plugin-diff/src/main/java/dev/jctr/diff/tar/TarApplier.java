package dev.jctr.diff.tar;

import dev.jctr.api.content.Digests;
import dev.jctr.api.diff.LayerApplier;
import dev.jctr.api.diff.LayerDiffer;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.mount.Mount;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.osgi.service.component.annotations.Component;

/**
 * containerd's {@code io.containerd.differ.v1.walking}: makes layers from two mounts
 * ({@link TreeDiffer}) and applies them: decompresses a layer (gzip,
 * zstd), hashes
 * the tar stream (the diffID), and extracts it onto an active snapshot. An overlay mount is
 * applied straight into its upper directory with overlay whiteouts, as containerd does; a
 * writable bind mount is applied into its source directory.
 */
@Component(service = {LayerApplier.class, LayerDiffer.class},
    name = "io.containerd.differ.v1.walking")
@Plugin(type = PluginTypes.DIFF, id = "walking")
public final class TarApplier implements LayerApplier, LayerDiffer {

  private final TreeDiffer differ = new TreeDiffer();

  @Override
  public Produced diff(List<Mount> lower, List<Mount> upper, String mediaType,
      java.io.OutputStream out) throws IOException {
    return differ.diff(lower, upper, mediaType, out);
  }

  @Override
  public Applied apply(InputStream layer, String mediaType, List<Mount> mounts)
      throws IOException {
    LayerExtractor extractor = extractorFor(mounts);
    MessageDigest digest = Digests.sha256();
    CountingStream counted = new CountingStream(new DigestInputStream(
        decompress(new BufferedInputStream(layer, 1 << 16), mediaType), digest));
    extractor.extract(new FilterInputStream(counted) {
      @Override
      public void close() {
        // the tar reader must not close the stream: its rest is hashed below
      }
    });
    counted.transferTo(OutputNowhere.INSTANCE); // the tar's trailing padding is part of the diffID
    return new Applied(Digests.of(digest), counted.count);
  }

  static InputStream decompress(InputStream in, String mediaType) throws IOException {
    if (mediaType.endsWith("+gzip") || mediaType.endsWith(".gzip")
        || mediaType.endsWith("tar.gzip")) {
      return new GZIPInputStream(in, 1 << 16);
    }
    if (mediaType.endsWith("+zstd") || mediaType.endsWith(".zstd")) {
      return new ZstdInputStream(in);
    }
    if (mediaType.endsWith(".tar") || mediaType.endsWith("tar") || mediaType.endsWith(".v1.tar")
        || mediaType.equals("application/vnd.docker.image.rootfs.diff.tar")) {
      return in;
    }
    throw new InvalidArgumentException("layer media type \"" + mediaType + "\" is not a tar");
  }

  static LayerExtractor extractorFor(List<Mount> mounts) {
    if (mounts.size() != 1) {
      throw new InvalidArgumentException("cannot apply a layer onto " + mounts.size()
          + " mounts; expected the one mount of an active snapshot");
    }
    Mount mount = mounts.get(0);
    if (mount.type().equals("overlay")) {
      String upper = null;
      List<Path> lowers = new ArrayList<>();
      for (String option : mount.options()) {
        if (option.startsWith("upperdir=")) {
          upper = option.substring("upperdir=".length());
        } else if (option.startsWith("lowerdir=")) {
          for (String lower : option.substring("lowerdir=".length()).split(":")) {
            lowers.add(Path.of(lower));
          }
        }
      }
      if (upper == null) {
        throw new InvalidArgumentException("cannot apply a layer onto a read-only overlay");
      }
      return new LayerExtractor(Path.of(upper), lowers, true);
    }
    if (mount.type().equals("bind") && !mount.readOnly()) {
      Path source = Path.of(mount.source());
      if (!Files.isDirectory(source)) {
        throw new InvalidArgumentException("bind source " + source + " is not a directory");
      }
      return new LayerExtractor(source, List.of(), false);
    }
    throw new InvalidArgumentException("cannot apply a layer onto a " + mount.type()
        + " mount" + (mount.readOnly() ? " that is read-only" : ""));
  }

  /** Counts what is read through it. */
  private static final class CountingStream extends FilterInputStream {
    long count;

    CountingStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      if (n > 0) {
        count += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      // skipping would leave bytes out of the diffID: read them instead
      byte[] sink = new byte[(int) Math.min(n, 8192)];
      int read = read(sink, 0, sink.length);
      return Math.max(read, 0);
    }
  }

  private static final class OutputNowhere extends java.io.OutputStream {
    static final OutputNowhere INSTANCE = new OutputNowhere();

    @Override
    public void write(int b) {}

    @Override
    public void write(byte[] b, int off, int len) {}
  }
}
