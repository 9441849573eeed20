package dev.jctr.metadata.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.jctr.api.content.Digests;
import dev.jctr.api.proto.containerd.services.content.v1.AbortRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ContentGrpc;
import dev.jctr.api.proto.containerd.services.content.v1.DeleteContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.InfoRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ListContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ListStatusesRequest;
import dev.jctr.api.proto.containerd.services.content.v1.ReadContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.StatusRequest;
import dev.jctr.api.proto.containerd.services.content.v1.WriteAction;
import dev.jctr.api.proto.containerd.services.content.v1.WriteContentRequest;
import dev.jctr.api.proto.containerd.services.content.v1.WriteContentResponse;
import dev.jctr.api.proto.containerd.services.namespaces.v1.DeleteNamespaceRequest;
import dev.jctr.api.proto.containerd.services.namespaces.v1.NamespacesGrpc;
import dev.jctr.content.local.LocalContentStore;
import dev.jctr.metadata.store.ContentMetadata;
import dev.jctr.metadata.store.MetadataDb;
import dev.jctr.metadata.store.NamespaceStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContentServiceTest {

  @TempDir Path dir;
  private MetadataDb db;
  private LocalContentStore store;
  private InProcessServer server;
  private final List<String> events = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    db = MetadataDb.open(dir.resolve("meta"));
    store = new LocalContentStore(dir.resolve("content"));
    server = new InProcessServer(
        new ContentService(new ContentMetadata(db), store, (ns, topic, e) -> events.add(ns + " "
            + topic)),
        new NamespacesService(new NamespaceStore(db), null));
  }

  @AfterEach
  void stop() {
    server.close();
    db.close();
  }

  /** One Write stream: its responses and how it ended. */
  private final class Stream implements StreamObserver<WriteContentResponse> {
    final List<WriteContentResponse> responses = new ArrayList<>();
    Throwable error;
    boolean completed;
    final StreamObserver<WriteContentRequest> requests;

    Stream(String namespace) {
      requests = ContentGrpc.newStub(server.channel(namespace)).write(this);
    }

    Stream send(WriteContentRequest request) {
      requests.onNext(request);
      return this;
    }

    WriteContentResponse last() {
      return responses.get(responses.size() - 1);
    }

    @Override
    public void onNext(WriteContentResponse value) {
      responses.add(value);
    }

    @Override
    public void onError(Throwable t) {
      error = t;
    }

    @Override
    public void onCompleted() {
      completed = true;
    }
  }

  private static WriteContentRequest.Builder message(WriteAction action) {
    return WriteContentRequest.newBuilder().setAction(action);
  }

  private static byte[] bytes(int size) {
    byte[] data = new byte[size];
    new Random(size).nextBytes(data);
    return data;
  }

  private String write(String namespace, String ref, byte[] data) {
    String digest = Digests.of(data);
    Stream stream = new Stream(namespace)
        .send(message(WriteAction.STAT).setRef(ref).setTotal(data.length).setExpected(digest)
            .build())
        .send(message(WriteAction.WRITE).setOffset(0).setData(ByteString.copyFrom(data))
            .build())
        .send(message(WriteAction.COMMIT).setOffset(data.length).setTotal(data.length)
            .setExpected(digest).build());
    assertTrue(stream.completed, String.valueOf(stream.error));
    assertEquals(digest, stream.last().getDigest());
    return digest;
  }

  private byte[] read(String namespace, String digest, long offset, long size) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ContentGrpc.newBlockingStub(server.channel(namespace)).read(ReadContentRequest.newBuilder()
        .setDigest(digest).setOffset(offset).setSize(size).build())
        .forEachRemaining(r -> out.writeBytes(r.getData().toByteArray()));
    return out.toByteArray();
  }

  private static Status.Code code(Supplier<?> call) {
    return assertThrows(StatusRuntimeException.class, call::get).getStatus().getCode();
  }

  @Test
  void aBlobWrittenInOneNamespaceIsReadThereAndInvisibleElsewhere() {
    byte[] data = bytes(3 << 20);
    String digest = write("k8s.io", "layer-1", data);
    assertArrayEquals(data, read("k8s.io", digest, 0, 0));
    assertArrayEquals(java.util.Arrays.copyOfRange(data, 100, 1100),
        read("k8s.io", digest, 100, 1000));
    assertEquals(data.length, ContentGrpc.newBlockingStub(server.channel("k8s.io"))
        .info(InfoRequest.newBuilder().setDigest(digest).build()).getInfo().getSize());
    assertEquals(Status.Code.NOT_FOUND, code(() -> ContentGrpc.newBlockingStub(
        server.channel("moby")).info(InfoRequest.newBuilder().setDigest(digest).build())));
    assertEquals(Status.Code.NOT_FOUND, code(() -> read("moby", digest, 0, 0)));
    assertEquals(List.of("k8s.io /content/create"), events);
  }

  @Test
  void aBlobOnDiskForAnotherNamespaceIsSharedWithoutItsBytes() {
    byte[] data = bytes(1000);
    String digest = write("k8s.io", "a", data);
    Stream stream = new Stream("moby").send(message(WriteAction.STAT).setRef("b")
        .setTotal(data.length).setExpected(digest).build());
    assertEquals(Status.Code.ALREADY_EXISTS, Status.fromThrowable(stream.error).getCode());
    assertArrayEquals(data, read("moby", digest, 0, 0));

    ContentGrpc.newBlockingStub(server.channel("k8s.io")).delete(DeleteContentRequest
        .newBuilder().setDigest(digest).build());
    assertTrue(store.info(digest).isPresent(), "moby still holds it");
    ContentGrpc.newBlockingStub(server.channel("moby")).delete(DeleteContentRequest
        .newBuilder().setDigest(digest).build());
    assertTrue(store.info(digest).isPresent(), "the bytes wait for the collector");
    assertEquals(List.of(digest), assertDoesNotThrow(() ->
        new ContentMetadata(db).sweepBlobs(store, java.time.Instant.now())));
    assertTrue(store.info(digest).isEmpty(), "nobody holds it: the bytes are gone");
  }

  @Test
  void anInterruptedWriteResumesAtItsOffset() {
    byte[] data = bytes(200_000);
    String digest = Digests.of(data);
    Stream first = new Stream("k8s.io")
        .send(message(WriteAction.WRITE).setRef("resume").setTotal(data.length)
            .setExpected(digest).setData(ByteString.copyFrom(data, 0, 50_000)).build());
    assertEquals(50_000, first.last().getOffset());
    first.requests.onCompleted();
    assertEquals(50_000, ContentGrpc.newBlockingStub(server.channel("k8s.io"))
        .status(StatusRequest.newBuilder().setRef("resume").build()).getStatus().getOffset());
    assertEquals(List.of("resume"), ContentGrpc.newBlockingStub(server.channel("k8s.io"))
        .listStatuses(ListStatusesRequest.getDefaultInstance()).getStatusesList().stream()
        .map(s -> s.getRef()).toList());
    assertEquals(0, ContentGrpc.newBlockingStub(server.channel("moby"))
        .listStatuses(ListStatusesRequest.getDefaultInstance()).getStatusesCount());

    Stream second = new Stream("k8s.io").send(message(WriteAction.STAT).setRef("resume")
        .build());
    assertEquals(50_000, second.last().getOffset());
    assertEquals(Status.Code.UNAVAILABLE, Status.fromThrowable(new Stream("k8s.io")
        .send(message(WriteAction.STAT).setRef("resume").build()).error).getCode(),
        "one writer per ref");
    second.send(message(WriteAction.WRITE).setOffset(7)
        .setData(ByteString.copyFrom(new byte[] {1})).build());
    assertEquals(Status.Code.OUT_OF_RANGE, Status.fromThrowable(second.error).getCode());
    Stream third = new Stream("k8s.io")
        .send(message(WriteAction.COMMIT).setRef("resume").setOffset(50_000)
            .setData(ByteString.copyFrom(data, 50_000, data.length - 50_000))
            .setTotal(data.length).setExpected(digest).build());
    assertTrue(third.completed, String.valueOf(third.error));
    assertArrayEquals(data, read("k8s.io", digest, 0, 0));
  }

  @Test
  void aDigestMismatchMakesNoBlobAndBadDigestsAreRefused() throws Exception {
    byte[] data = bytes(500);
    String wrong = Digests.of(bytes(501));
    Stream stream = new Stream("k8s.io").send(message(WriteAction.COMMIT).setRef("bad")
        .setData(ByteString.copyFrom(data)).setExpected(wrong).build());
    assertEquals(Status.Code.FAILED_PRECONDITION, Status.fromThrowable(stream.error).getCode());
    try (var blobs = Files.list(dir.resolve("content/blobs/sha256"))) {
      assertEquals(0, blobs.count());
    }
    ContentGrpc.newBlockingStub(server.channel("k8s.io")).abort(AbortRequest.newBuilder()
        .setRef("bad").build());
    for (String digest : List.of("sha256:xyz", "md5:abc", "sha256:../../../etc/passwd")) {
      assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> ContentGrpc.newBlockingStub(
          server.channel("k8s.io")).info(InfoRequest.newBuilder().setDigest(digest).build())));
    }
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(new Stream("k8s.io")
        .send(message(WriteAction.STAT).build()).error).getCode(), "no ref");
  }

  @Test
  void listingFiltersAndANamespaceWithBlobsStays() {
    String a = write("k8s.io", "a", bytes(10));
    write("k8s.io", "b", bytes(20));
    List<String> listed = new ArrayList<>();
    ContentGrpc.newBlockingStub(server.channel("k8s.io")).list(ListContentRequest.newBuilder()
        .addFilters("digest==" + a).build())
        .forEachRemaining(r -> r.getInfoList().forEach(i -> listed.add(i.getDigest())));
    assertEquals(List.of(a), listed);
    assertEquals(Status.Code.FAILED_PRECONDITION, code(() -> NamespacesGrpc.newBlockingStub(
        server.channel(null)).delete(DeleteNamespaceRequest.newBuilder().setName("k8s.io")
            .build())));
  }
}
