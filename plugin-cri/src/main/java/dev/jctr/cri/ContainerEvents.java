package dev.jctr.cri;

import dev.jctr.api.proto.cri.v1.ContainerEventResponse;
import dev.jctr.api.proto.cri.v1.ContainerEventType;
import dev.jctr.cri.store.CriContainer;
import dev.jctr.cri.store.PodSandbox;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** GetContainerEvents: every subscriber gets each lifecycle event of pods and containers. */
final class ContainerEvents {

  private final Set<ServerCallStreamObserver<ContainerEventResponse>> subscribers =
      ConcurrentHashMap.newKeySet();

  void subscribe(ServerCallStreamObserver<ContainerEventResponse> subscriber) {
    subscriber.setOnCancelHandler(() -> subscribers.remove(subscriber));
    subscribers.add(subscriber);
  }

  void sandbox(ContainerEventType type, PodSandbox sandbox) {
    publish(ContainerEventResponse.newBuilder().setContainerId(sandbox.id())
        .setContainerEventType(type).setCreatedAt(System.currentTimeMillis() * 1_000_000L)
        .setPodSandboxStatus(CriMessages.status(sandbox)).build());
  }

  void container(ContainerEventType type, CriContainer container, PodSandbox sandbox) {
    ContainerEventResponse.Builder event = ContainerEventResponse.newBuilder()
        .setContainerId(container.id()).setContainerEventType(type)
        .setCreatedAt(System.currentTimeMillis() * 1_000_000L)
        .addContainersStatuses(CriMessages.status(container));
    if (sandbox != null) {
      event.setPodSandboxStatus(CriMessages.status(sandbox));
    }
    publish(event.build());
  }

  private void publish(ContainerEventResponse event) {
    for (ServerCallStreamObserver<ContainerEventResponse> subscriber : subscribers) {
      synchronized (subscriber) {
        try {
          subscriber.onNext(event);
        } catch (RuntimeException e) {
          subscribers.remove(subscriber); // cancelled under us
        }
      }
    }
  }

  void close() {
    subscribers.forEach(s -> {
      try {
        s.onCompleted();
      } catch (RuntimeException e) {
        // gone
      }
    });
    subscribers.clear();
  }
}
