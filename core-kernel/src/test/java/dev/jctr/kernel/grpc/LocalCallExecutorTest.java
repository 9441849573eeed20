package dev.jctr.kernel.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.proto.containerd.services.tasks.v1.GetRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.GetResponse;
import dev.jctr.api.proto.containerd.services.tasks.v1.TasksGrpc;
import dev.jctr.api.proto.containerd.services.tasks.v1.WaitRequest;
import dev.jctr.api.proto.containerd.services.tasks.v1.WaitResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The in-process server as the kernel builds it: which thread runs which call. */
class LocalCallExecutorTest {

  private final AtomicReference<Thread> handlerThread = new AtomicReference<>();
  private final CountDownLatch exited = new CountDownLatch(1);
  private final ExecutorService waiting = Executors.newVirtualThreadPerTaskExecutor();
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name)
        .addService(new TasksGrpc.TasksImplBase() {
          @Override
          public void get(GetRequest request, StreamObserver<GetResponse> response) {
            handlerThread.set(Thread.currentThread());
            response.onNext(GetResponse.getDefaultInstance());
            response.onCompleted();
          }

          @Override
          public void wait(WaitRequest request, StreamObserver<WaitResponse> response) {
            handlerThread.set(Thread.currentThread());
            try {
              exited.await(); // as the tasks service does until the process exits
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            response.onNext(WaitResponse.newBuilder().setExitStatus(3).build());
            response.onCompleted();
          }
        })
        .executor(Runnable::run)
        .callExecutor(new LocalCallExecutor(waiting))
        .build().start();
    channel = InProcessChannelBuilder.forName(name).executor(waiting).build();
  }

  @AfterEach
  void stop() {
    exited.countDown();
    channel.shutdownNow();
    server.shutdownNow();
    waiting.shutdownNow();
  }

  @Test
  void aUnaryCallRunsOnItsCallersThread() {
    TasksGrpc.newBlockingStub(channel).get(GetRequest.newBuilder().setContainerId("c").build());
    assertSame(Thread.currentThread(), handlerThread.get());
  }

  @Test
  void aWaitHasAThreadOfItsOwnSoThatTheCallersDeadlineEndsIt() throws Exception {
    long start = System.nanoTime();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () ->
        TasksGrpc.newBlockingStub(channel).withDeadlineAfter(300, TimeUnit.MILLISECONDS)
            .wait(WaitRequest.newBuilder().setContainerId("c").build()));
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    assertTrue(millis < 5_000, "the wait ended after " + millis + " ms");
    assertNotSame(Thread.currentThread(), handlerThread.get());
    // without a deadline it answers once the event happens
    Thread.ofVirtual().start(() -> {
      try {
        Thread.sleep(100);
      } catch (InterruptedException interrupted) {
        return;
      }
      exited.countDown();
    });
    assertEquals(3, TasksGrpc.newBlockingStub(channel).wait(WaitRequest.newBuilder()
        .setContainerId("c").build()).getExitStatus());
  }
}
