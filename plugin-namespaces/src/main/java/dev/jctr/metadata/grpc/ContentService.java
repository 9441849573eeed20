package dev.jctr.metadata.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.jctr.api.content.ContentStore;
import dev.jctr.api.content.IngestStatus;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.events.EventPublisher;
import dev.jctr.api.events.Topics;
import dev.jctr.api.filters.Fields;
import dev.jctr.api.filters.Filter;
import dev.jctr.api.leases.CallLease;
import dev.jctr.api.namespace.CallNamespace;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.proto.containerd.events.ContentCreate;
import dev.jctr.api.proto.containerd.events.ContentDelete;
import dev.jctr.api.proto.containerd.services.content.v1.AbortRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ContentGrpc;
import dev.jctr.api.proto.containerd.services.content.v1.DeleteContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.Info;
import dev.jctr.api.proto.containerd.services.content.v1.InfoRequest;
import dev.jctr.api.proto.containerd.services.content.v1.InfoResponse;
import dev.jctr.api.proto.containerd.services.content.v1.ListContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ListContentResponse;
import dev.jctr.api.proto.containerd.services.content.v1.ListStatusesRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ListStatusesResponse;
import dev.jctr.api.proto.containerd.services.content.v1.ReadContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ReadContentResponse;
import dev.jctr.api.proto.containerd.services.content.v1.Status;
import dev.jctr.api.proto.containerd.services.content.v1.StatusRequest;
import dev.jctr.api.proto.containerd.services.content.v1.StatusResponse;
import dev.jctr.api.proto.containerd.services.content.v1.UpdateRequest;
import dev.jctr.api.proto.containerd.services.content.v1.UpdateResponse;
import dev.jctr.api.proto.containerd.services.content.v1.WriteContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.WriteContentResponse;
import dev.jctr.metadata.plugin.MetadataPlugin;
import dev.jctr.metadata.store.ContentMetadata;
import io.grpc.BindableService;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code containerd.services.content.v1.Content}: blobs in the call's namespace. Bytes live once
 * in the {@link ContentStore}; which namespace sees them, and with which labels, lives in the
 * metadata database. Ingests are the store's, under {@code <namespace>/<ref>}, so two
 * namespaces can use the same ref.
 */
@Component(service = BindableService.class, name = "io.containerd.grpc.v1.content")
@Plugin(type = PluginTypes.GRPC, id = "content",
    requires = {PluginTypes.METADATA, PluginTypes.CONTENT})
public final class ContentService extends ContentGrpc.ContentImplBase {

  /** Bytes per Read response and Infos per List response. */
  static final int READ_CHUNK = 1 << 20;
  static final int LIST_BATCH = 100;

  private final ContentMetadata metadata;
  private final ContentStore store;

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private volatile EventPublisher publisher;

  @Activate
  public ContentService(@Reference MetadataPlugin metadata, @Reference ContentStore store) {
    this(metadata.content(), store, null);
  }

  ContentService(ContentMetadata metadata, ContentStore store, EventPublisher publisher) {
    this.metadata = metadata;
    this.store = store;
    this.publisher = publisher;
  }

  static String backendRef(String namespace, String ref) {
    return namespace + "/" + ref;
  }

  @Override
  public void info(InfoRequest request, StreamObserver<InfoResponse> response) {
    Info info = metadata.require(CallNamespace.required(), request.getDigest());
    Reply.send(response, InfoResponse.newBuilder().setInfo(info).build());
  }

  @Override
  public void update(UpdateRequest request, StreamObserver<UpdateResponse> response) {
    Info info = metadata.update(CallNamespace.required(), request.getInfo(),
        request.getUpdateMask().getPathsList());
    Reply.send(response, UpdateResponse.newBuilder().setInfo(info).build());
  }

  @Override
  public void list(ListContentRequest request, StreamObserver<ListContentResponse> response) {
    List<Info> infos = metadata.list(CallNamespace.required(),
        Filter.parseAny(request.getFiltersList()));
    for (int from = 0; from < infos.size(); from += LIST_BATCH) {
      response.onNext(ListContentResponse.newBuilder()
          .addAllInfo(infos.subList(from, Math.min(infos.size(), from + LIST_BATCH))).build());
    }
    response.onCompleted();
  }

  @Override
  public void delete(DeleteContentRequest request, StreamObserver<Empty> response) {
    String namespace = CallNamespace.required();
    // the bytes go with the collector's next run (soon after), once no namespace holds them
    metadata.delete(namespace, request.getDigest());
    AfterCommit.publish(() -> publisher, namespace, Topics.CONTENT_DELETE,
        ContentDelete.newBuilder().setDigest(request.getDigest()).build());
    Reply.send(response, Empty.getDefaultInstance());
  }

  @Override
  public void read(ReadContentRequest request, StreamObserver<ReadContentResponse> response) {
    Info info = metadata.require(CallNamespace.required(), request.getDigest());
    if (request.getOffset() < 0 || request.getSize() < 0) {
      throw new InvalidArgumentException("read of " + request.getDigest()
          + ": offset and size must not be negative");
    }
    long end = request.getSize() == 0 ? info.getSize()
        : Math.min(info.getSize(), request.getOffset() + request.getSize());
    ServerCallStreamObserver<ReadContentResponse> call =
        (ServerCallStreamObserver<ReadContentResponse>) response;
    try (SeekableByteChannel channel = store.open(request.getDigest())) {
      ByteBuffer buffer = ByteBuffer.allocate(READ_CHUNK);
      for (long at = request.getOffset(); at < end && !call.isCancelled(); ) {
        buffer.clear().limit((int) Math.min(READ_CHUNK, end - at));
        channel.position(at);
        int n = channel.read(buffer);
        if (n <= 0) {
          break;
        }
        buffer.flip();
        call.onNext(ReadContentResponse.newBuilder().setOffset(at)
            .setData(ByteString.copyFrom(buffer)).build());
        at += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("read " + request.getDigest(), e);
    }
    call.onCompleted();
  }

  @Override
  public void status(StatusRequest request, StreamObserver<StatusResponse> response) {
    String namespace = CallNamespace.required();
    try {
      IngestStatus status = store.status(backendRef(namespace, request.getRef()))
          .orElseThrow(() -> new NotFoundException("ingest \"" + request.getRef() + "\""));
      Reply.send(response, StatusResponse.newBuilder()
          .setStatus(toProto(namespace, status)).build());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void listStatuses(ListStatusesRequest request,
      StreamObserver<ListStatusesResponse> response) {
    String namespace = CallNamespace.required();
    Filter filter = Filter.parseAny(request.getFiltersList());
    ListStatusesResponse.Builder statuses = ListStatusesResponse.newBuilder();
    try {
      for (IngestStatus status : store.statuses()) {
        if (status.ref().startsWith(namespace + "/")) {
          Status proto = toProto(namespace, status);
          if (filter.matchesAll() || filter.matches(Fields.of(Map.of("ref", proto.getRef()),
              Map.of()))) {
            statuses.addStatuses(proto);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Reply.send(response, statuses.build());
  }

  @Override
  public void abort(AbortRequest request, StreamObserver<Empty> response) {
    try {
      store.abort(backendRef(CallNamespace.required(), request.getRef()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Reply.send(response, Empty.getDefaultInstance());
  }

  @Override
  public StreamObserver<WriteContentRequest> write(
      StreamObserver<WriteContentResponse> response) {
    return new WriteSession(CallNamespace.required(), CallLease.current(), metadata, store,
        response,
        (namespace, info) -> AfterCommit.publish(() -> publisher, namespace,
            Topics.CONTENT_CREATE, ContentCreate.newBuilder().setDigest(info.getDigest())
                .setSize(info.getSize()).build()));
  }

  static Status toProto(String namespace, IngestStatus status) {
    return Status.newBuilder()
        .setRef(status.ref().substring(namespace.length() + 1))
        .setOffset(status.offset()).setTotal(status.total()).setExpected(status.expected())
        .setStartedAt(Timestamps.of(status.startedAt()))
        .setUpdatedAt(Timestamps.of(status.updatedAt()))
        .build();
  }
}
