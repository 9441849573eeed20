package dev.jctr.metadata.grpc;

import dev.jctr.api.content.ContentStore;
import dev.jctr.api.content.ContentWriter;
import dev.jctr.api.content.Digests;
import dev.jctr.api.content.IngestStatus;
import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.ErrorStatus;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.proto.containerd.services.content.v1.Info;
import dev.jctr.api.proto.containerd.services.content.v1.WriteAction;
import dev.jctr.api.proto.containerd.services.content.v1.WriteContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.WriteContentResponse;
import dev.jctr.metadata.store.ContentMetadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.function.BiConsumer;

/**
 * One Write stream, containerd's protocol: the first message names the ref (its writer stays
 * locked for the stream); every message gets one response with the current offset. STAT
 * reports; WRITE appends at the current offset ({@code offset} given must equal it, else
 * OutOfRange; {@code 0} with data already written starts over); COMMIT appends, then commits
 * with the latest total and expected digest and ends the stream. An expected digest the
 * namespace already has ends it with AlreadyExists, which clients take as success; one that is
 * on disk for another namespace is shared into this one the same way.
 */
final class WriteSession implements StreamObserver<WriteContentRequest> {

  private final String namespace;
  private final String lease;
  private final ContentMetadata metadata;
  private final ContentStore store;
  private final StreamObserver<WriteContentResponse> response;
  private final BiConsumer<String, Info> created;
  private String ref;
  private ContentWriter writer;
  private long total;
  private String expected = "";
  private boolean ended;

  WriteSession(String namespace, String lease, ContentMetadata metadata, ContentStore store,
      StreamObserver<WriteContentResponse> response, BiConsumer<String, Info> created) {
    this.namespace = namespace;
    this.lease = lease;
    this.metadata = metadata;
    this.store = store;
    this.response = response;
    this.created = created;
  }

  @Override
  public void onNext(WriteContentRequest request) {
    if (ended) {
      return;
    }
    try {
      handle(request);
    } catch (RuntimeException | IOException e) {
      fail(e);
    }
  }

  private void handle(WriteContentRequest request) throws IOException {
    if (ref == null) {
      if (request.getRef().isEmpty()) {
        throw new InvalidArgumentException("the first write message must name a ref");
      }
      ref = request.getRef();
    } else if (!request.getRef().isEmpty() && !request.getRef().equals(ref)) {
      throw new InvalidArgumentException("ref \"" + request.getRef() + "\" in a stream for \""
          + ref + "\"");
    }
    if (request.getTotal() > 0) {
      total = request.getTotal();
    }
    if (!request.getExpected().isEmpty()) {
      expected = Digests.validate(request.getExpected());
      if (alreadyHere(expected)) {
        return;
      }
    }
    if (writer == null) {
      try {
        writer = store.writer(ContentService.backendRef(namespace, ref), total, expected);
      } catch (AlreadyExistsException e) {
        share(expected);
        return;
      }
    }
    writer.expect(total, expected);
    WriteAction action = request.getAction();
    if (action == WriteAction.WRITE || action == WriteAction.COMMIT) {
      if (request.getOffset() > 0 && request.getOffset() != writer.offset()) {
        throw new OffsetException("write @" + request.getOffset()
            + " must occur at current offset " + writer.offset());
      }
      if (request.getOffset() == 0 && writer.offset() > 0) {
        writer.truncate(); // the client starts over
      }
      if (!request.getData().isEmpty()) {
        writer.write(request.getData().asReadOnlyByteBuffer());
      }
    }
    IngestStatus status = writer.status();
    WriteContentResponse.Builder reply = WriteContentResponse.newBuilder().setAction(action)
        .setOffset(writer.offset()).setTotal(status.total())
        .setStartedAt(Timestamps.of(status.startedAt()))
        .setUpdatedAt(Timestamps.of(status.updatedAt()));
    if (action == WriteAction.STAT) {
      reply.setDigest(writer.digest());
    }
    if (action == WriteAction.COMMIT) {
      long size = writer.offset();
      String digest;
      Info info;
      metadata.commitLock().lock();
      try {
        try {
          digest = writer.commit(total, expected);
        } catch (AlreadyExistsException e) {
          digest = writer.digest(); // on disk already: it becomes visible here all the same
        }
        writer = null;
        info = metadata.add(namespace, digest, size, request.getLabelsMap(), lease);
      } finally {
        metadata.commitLock().unlock();
      }
      created.accept(namespace, info);
      response.onNext(reply.setDigest(digest).build());
      end();
      return;
    }
    response.onNext(reply.build());
  }

  /** True (and the stream ended with AlreadyExists) when the namespace holds the blob. */
  private boolean alreadyHere(String digest) throws IOException {
    if (metadata.get(namespace, digest).isEmpty()) {
      return false;
    }
    metadata.lease(namespace, digest, lease);
    abortIngest();
    ended = true;
    response.onError(Status.ALREADY_EXISTS.withDescription("blob with expected digest "
        + digest + " exists").asRuntimeException());
    return true;
  }

  /** The blob is on disk for another namespace: record it here, end with AlreadyExists. */
  private void share(String digest) throws IOException {
    Info info;
    metadata.commitLock().lock();
    try {
      long size = store.info(digest).orElseThrow(() -> new dev.jctr.api.errors.NotFoundException(
          "blob " + digest + " went while being shared; write it again")).size();
      info = metadata.add(namespace, digest, size, java.util.Map.of(), lease);
    } finally {
      metadata.commitLock().unlock();
    }
    created.accept(namespace, info);
    abortIngest();
    ended = true;
    response.onError(Status.ALREADY_EXISTS.withDescription("blob with expected digest "
        + digest + " exists").asRuntimeException());
  }

  private void abortIngest() throws IOException {
    if (writer != null) {
      writer.close();
      writer = null;
    }
    if (store.status(ContentService.backendRef(namespace, ref)).isPresent()) {
      store.abort(ContentService.backendRef(namespace, ref));
    }
  }

  private void fail(Exception e) {
    closeWriter();
    ended = true;
    Status status = e instanceof OffsetException
        ? Status.OUT_OF_RANGE.withDescription(e.getMessage())
        : ErrorStatus.of(e);
    response.onError(status.asRuntimeException());
  }

  private void end() {
    ended = true;
    response.onCompleted();
  }

  private void closeWriter() {
    if (writer != null) {
      writer.close(); // keeps the ingest for a later resume
      writer = null;
    }
  }

  @Override
  public void onError(Throwable t) {
    closeWriter(); // the client went away; what it wrote stays for a resume
  }

  @Override
  public void onCompleted() {
    closeWriter();
    if (!ended) {
      end();
    }
  }

  /** A write at the wrong offset: gRPC's OutOfRange, which the SPI has no exception for. */
  private static final class OffsetException extends RuntimeException {
    OffsetException(String message) {
      super(message);
    }
  }
}
