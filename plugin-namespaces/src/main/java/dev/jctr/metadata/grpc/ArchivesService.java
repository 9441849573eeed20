package dev.jctr.metadata.grpc;

import com.google.protobuf.ByteString;
import dev.jctr.api.content.ContentStore;
import dev.jctr.api.diff.LayerApplier;
import dev.jctr.api.errors.ErrorStatus;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.jctr.services.images.v1.ArchivesGrpc;
import dev.jctr.api.proto.jctr.services.images.v1.ExportChunk;
import dev.jctr.api.proto.jctr.services.images.v1.ExportRequest;
import dev.jctr.api.proto.jctr.services.images.v1.ImportProgress;
import dev.jctr.api.proto.jctr.services.images.v1.ImportRequest;
import dev.jctr.api.snapshots.Snapshotter;
import dev.jctr.metadata.plugin.MetadataPlugin;
import dev.jctr.metadata.plugin.Snapshotters;
import dev.jctr.metadata.transfer.ArchiveExporter;
import dev.jctr.metadata.transfer.ArchiveImporter;
import dev.jctr.metadata.transfer.Unpacker;
import io.grpc.BindableService;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code jctr.services.images.v1.Archives}: image archives streamed in and out. Both directions
 * are flow-controlled: an import asks for the next chunk only once it took the last, an export
 * writes only while the client keeps up, so neither holds more than a few chunks in memory.
 */
@Component(service = BindableService.class, name = "io.jctr.grpc.v1.archives")
@Plugin(type = PluginTypes.GRPC, id = "archives",
    requires = {PluginTypes.METADATA, PluginTypes.CONTENT, PluginTypes.DIFF})
public final class ArchivesService extends ArchivesGrpc.ArchivesImplBase {

  static final int CHUNK = 1 << 20;

  private final ArchiveImporter importer;
  private final ArchiveExporter exporter;
  private final Snapshotters snapshotters;

  @Activate
  public ArchivesService(@Reference MetadataPlugin metadata, @Reference ContentStore store,
      @Reference LayerApplier applier, @Reference Snapshotters snapshotters) {
    this.snapshotters = snapshotters;
    Unpacker unpacker = new Unpacker(store, metadata.content(), metadata.snapshots(), applier);
    this.importer = new ArchiveImporter(store, metadata.content(), metadata.leases(),
        metadata.images(), unpacker);
    this.exporter = new ArchiveExporter(store, metadata.content(), metadata.images());
  }

  @Override
  public StreamObserver<ImportRequest> import_(
      StreamObserver<ImportProgress> responseObserver) {
    String namespace = CallNamespace.required();
    ServerCallStreamObserver<ImportProgress> call =
        (ServerCallStreamObserver<ImportProgress>) responseObserver;
    call.disableAutoRequest();
    ChunkInput input = new ChunkInput(() -> call.request(1));
    call.request(1);
    return new StreamObserver<>() {
      private boolean started;

      @Override
      public void onNext(ImportRequest request) {
        if (!started) {
          started = true;
          Thread.ofVirtual().name("jctr-import").start(() -> run(namespace, request, input,
              call));
        }
        input.offer(request.getData());
      }

      @Override
      public void onError(Throwable t) {
        input.fail();
      }

      @Override
      public void onCompleted() {
        if (!started) {
          call.onError(io.grpc.Status.INVALID_ARGUMENT.withDescription("empty archive")
              .asRuntimeException());
          return;
        }
        input.end();
      }
    };
  }

  private void run(String namespace, ImportRequest first, ChunkInput input,
      ServerCallStreamObserver<ImportProgress> call) {
    try {
      String snapshotter = first.getSnapshotter().isEmpty() ? "overlayfs"
          : first.getSnapshotter();
      Snapshotter backend = first.getSkipUnpack() ? null : snapshotters.require(snapshotter, "");
      List<Image> images = importer.importArchive(namespace, input,
          new ArchiveImporter.Options(first.getBaseName(), !first.getSkipUnpack(), snapshotter,
              first.getPlatform()), backend, (ref, status, offset, total) -> {
                synchronized (call) {
                  if (!call.isCancelled()) {
                    call.onNext(ImportProgress.newBuilder().setRef(ref).setStatus(status)
                        .setOffset(offset).setTotal(total).build());
                  }
                }
              });
      input.drain(); // the tar's zero padding after its end marker
      synchronized (call) {
        call.onNext(ImportProgress.newBuilder().setStatus("done").addAllImages(images).build());
        call.onCompleted();
      }
    } catch (IOException | RuntimeException e) {
      input.fail();
      synchronized (call) {
        if (!call.isCancelled()) {
          call.onError(ErrorStatus.of(e).asRuntimeException());
        }
      }
    }
  }

  @Override
  public void export(ExportRequest request, StreamObserver<ExportChunk> responseObserver) {
    String namespace = CallNamespace.required();
    ServerCallStreamObserver<ExportChunk> call =
        (ServerCallStreamObserver<ExportChunk>) responseObserver;
    Object ready = new Object();
    call.setOnReadyHandler(() -> {
      synchronized (ready) {
        ready.notifyAll();
      }
    });
    call.setOnCancelHandler(() -> {
      synchronized (ready) {
        ready.notifyAll();
      }
    });
    // on a thread of its own, so that the ready callbacks can run while it waits for them
    Thread.ofVirtual().name("jctr-export").start(() -> {
      try (OutputStream out = new ChunkOutput(call, ready)) {
        exporter.export(namespace, request.getNamesList(), request.getPlatform(),
            request.getAllPlatforms(), out);
      } catch (IOException | RuntimeException e) {
        if (!call.isCancelled()) {
          call.onError(ErrorStatus.of(e).asRuntimeException());
        }
        return;
      }
      if (!call.isCancelled()) {
        call.onCompleted();
      }
    });
  }

  /** The bytes of an import's messages as one stream; asks for more as it takes each. */
  private static final class ChunkInput extends InputStream {
    private static final ByteString END = ByteString.copyFromUtf8("end");
    private static final ByteString FAILED = ByteString.copyFromUtf8("failed");
    private final BlockingQueue<ByteString> chunks = new ArrayBlockingQueue<>(4);
    private final Runnable requestMore;
    private volatile boolean failed;
    private InputStream current = InputStream.nullInputStream();
    private boolean ended;

    ChunkInput(Runnable requestMore) {
      this.requestMore = requestMore;
    }

    void offer(ByteString data) {
      if (!failed && !data.isEmpty()) {
        chunks.offer(data); // never more than asked for: one at a time
      }
    }

    void end() {
      chunks.offer(END);
    }

    void fail() {
      failed = true;
      chunks.clear();
      chunks.offer(FAILED);
    }

    /** Reads to the end, so the client's last messages are taken. */
    void drain() throws IOException {
      while (read(new byte[8192]) >= 0) {
        // discard
      }
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      while (true) {
        int n = current.read(buffer, offset, length);
        if (n > 0 || length == 0) {
          return n;
        }
        if (ended) {
          return -1;
        }
        ByteString next;
        try {
          next = chunks.take();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("import interrupted");
        }
        if (next == FAILED || failed) {
          throw new IOException("the client stopped sending the archive");
        }
        if (next == END) {
          ended = true;
          return -1;
        }
        current = next.newInput();
        requestMore.run();
      }
    }
  }

  /** Sends what is written in chunks, waiting while the client is not ready for more. */
  private static final class ChunkOutput extends OutputStream {
    private final ServerCallStreamObserver<ExportChunk> call;
    private final Object ready;
    private final byte[] buffer = new byte[CHUNK];
    private int filled;

    ChunkOutput(ServerCallStreamObserver<ExportChunk> call, Object ready) {
      this.call = call;
      this.ready = ready;
    }

    @Override
    public void write(int b) throws IOException {
      if (filled == buffer.length) {
        send();
      }
      buffer[filled++] = (byte) b;
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      while (length > 0) {
        if (filled == buffer.length) {
          send();
        }
        int n = Math.min(length, buffer.length - filled);
        System.arraycopy(bytes, offset, buffer, filled, n);
        filled += n;
        offset += n;
        length -= n;
      }
    }

    @Override
    public void flush() throws IOException {
      if (filled > 0) {
        send();
      }
    }

    @Override
    public void close() throws IOException {
      flush();
    }

    private void send() throws IOException {
      synchronized (ready) {
        while (!call.isReady() && !call.isCancelled()) {
          try {
            ready.wait(1000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("export interrupted");
          }
        }
      }
      if (call.isCancelled()) {
        throw new IOException("the client went away");
      }
      call.onNext(ExportChunk.newBuilder().setData(ByteString.copyFrom(buffer, 0, filled))
          .build());
      filled = 0;
    }
  }
}
