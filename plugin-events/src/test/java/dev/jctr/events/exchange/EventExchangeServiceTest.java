package dev.jctr.events.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.events.EventSink;
import dev.jctr.api.events.Subscription;
import dev.jctr.api.events.Topics;
import dev.jctr.api.proto.containerd.events.ContainerCreate;
import dev.jctr.api.proto.containerd.events.ContainerDelete;
import dev.jctr.api.proto.containerd.events.NamespaceCreate;
import dev.jctr.api.proto.containerd.types.Envelope;
import dev.jctr.api.typeurl.TypeUrls;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class EventExchangeServiceTest {

  /** Collects deliveries; {@link #await} waits for a count. */
  static final class Collector implements EventSink {
    final List<Envelope> seen = new CopyOnWriteArrayList<>();
    final AtomicInteger overflows = new AtomicInteger();
    final AtomicLong dropped = new AtomicLong();

    @Override
    public void deliver(Envelope envelope) {
      seen.add(envelope);
    }

    @Override
    public void overflowed(long count) {
      overflows.incrementAndGet();
      dropped.set(count);
    }

    List<String> topics() {
      return seen.stream().map(e -> e.getNamespace() + " " + e.getTopic()).toList();
    }

    List<Envelope> await(int count) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (seen.size() < count && System.nanoTime() < end) {
        Thread.sleep(5);
      }
      return seen;
    }
  }

  private static ContainerCreate create(String id) {
    return ContainerCreate.newBuilder().setId(id).setImage("img-" + id).build();
  }

  @Test
  void deliversInPublicationOrderWithContainerdTypeUrls() throws Exception {
    EventExchangeService exchange = new EventExchangeService();
    Collector all = new Collector();
    try (Subscription s = exchange.subscribe(List.of(), all)) {
      for (int i = 0; i < 500; i++) {
        exchange.publish("k8s.io", Topics.CONTAINER_CREATE, create("c" + i));
      }
      all.await(500);
    }
    assertEquals(500, all.seen.size());
    for (int i = 0; i < 500; i++) {
      Envelope e = all.seen.get(i);
      assertEquals("k8s.io", e.getNamespace());
      assertEquals("containerd.events.ContainerCreate", e.getEvent().getTypeUrl());
      assertEquals("c" + i, ContainerCreate.parseFrom(e.getEvent().getValue()).getId());
      assertTrue(e.getTimestamp().getSeconds() > 0);
    }
  }

  @Test
  void filtersOverTopicNamespaceAndEventFields() throws Exception {
    EventExchangeService exchange = new EventExchangeService();
    Collector byTopic = new Collector();
    Collector byNamespace = new Collector();
    Collector byEventField = new Collector();
    Collector byLabel = new Collector();
    Collector either = new Collector();
    List<Subscription> subs = List.of(
        exchange.subscribe(List.of("topic==/containers/delete"), byTopic),
        exchange.subscribe(List.of("namespace==moby"), byNamespace),
        exchange.subscribe(List.of("event.id==wanted,topic~=^/containers/"), byEventField),
        exchange.subscribe(List.of("event.labels.team==red"), byLabel),
        exchange.subscribe(List.of("namespace==moby", "topic==/namespaces/create"), either));
    exchange.publish("k8s.io", Topics.CONTAINER_CREATE, create("wanted"));
    exchange.publish("moby", Topics.CONTAINER_CREATE, create("other"));
    exchange.publish("k8s.io", Topics.CONTAINER_DELETE,
        ContainerDelete.newBuilder().setId("wanted").build());
    exchange.publish("red", Topics.NAMESPACE_CREATE,
        NamespaceCreate.newBuilder().setName("red").putLabels("team", "red").build());
    Collector everything = new Collector();
    exchange.subscribe(List.of(), everything);
    exchange.publish("k8s.io", "/marker", create("m"));
    everything.await(1);
    Thread.sleep(50);
    subs.forEach(Subscription::close);

    assertEquals(List.of("k8s.io /containers/delete"), byTopic.topics());
    assertEquals(List.of("moby /containers/create"), byNamespace.topics());
    assertEquals(List.of("k8s.io /containers/create", "k8s.io /containers/delete"),
        byEventField.topics());
    assertEquals(List.of("red /namespaces/create"), byLabel.topics());
    assertEquals(List.of("moby /containers/create", "red /namespaces/create"), either.topics());
  }

  @Test
  void malformedFiltersTopicsAndNamespacesAreRefused() {
    EventExchangeService exchange = new EventExchangeService();
    InvalidArgumentException filter = assertThrows(InvalidArgumentException.class,
        () -> exchange.subscribe(List.of("topic=="), new Collector()));
    assertTrue(filter.getMessage().contains("topic=="), filter.getMessage());
    assertThrows(InvalidArgumentException.class,
        () -> exchange.publish("k8s.io", "containers/create", create("x")));
    assertThrows(InvalidArgumentException.class,
        () -> exchange.publish("k8s.io", "/containers//create", create("x")));
    assertThrows(InvalidArgumentException.class,
        () -> exchange.publish("../etc", "/containers/create", create("x")));
    assertThrows(InvalidArgumentException.class, () -> exchange.forward(Envelope.newBuilder()
        .setNamespace("k8s.io").setTopic("/a").setEvent(TypeUrls.pack(create("x"))).build()));
    assertEquals(0, exchange.subscriberCount(), "a refused subscription stayed registered");
  }

  @Test
  void aStuckSubscriberNeitherBlocksPublishersNorOthersAndIsCutOffOnce() throws Exception {
    EventExchangeService exchange = new EventExchangeService(64);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger stuckDeliveries = new AtomicInteger();
    AtomicInteger stuckOverflows = new AtomicInteger();
    exchange.subscribe(List.of(), new EventSink() {
      @Override
      public void deliver(Envelope envelope) {
        stuckDeliveries.incrementAndGet();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }

      @Override
      public void overflowed(long dropped) {
        stuckOverflows.incrementAndGet();
      }
    });
    Collector healthy = new Collector();
    exchange.subscribe(List.of(), healthy);

    // ten bursts of 50, each one waited out by the healthy subscriber, overflow the stuck one
    long publishingNanos = 0;
    for (int burst = 0; burst < 10; burst++) {
      long start = System.nanoTime();
      for (int i = 0; i < 50; i++) {
        exchange.publish("k8s.io", Topics.CONTAINER_CREATE, create("c" + (burst * 50 + i)));
      }
      publishingNanos += System.nanoTime() - start;
      assertEquals((burst + 1) * 50, healthy.await((burst + 1) * 50).size(),
          "the healthy subscriber lost events");
    }
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(publishingNanos);
    assertTrue(tookMillis < 2_000, "500 publishes took " + tookMillis
        + " ms behind a stuck subscriber");
    release.countDown();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (stuckOverflows.get() == 0 && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    Thread.sleep(100);
    assertEquals(1, stuckOverflows.get(), "overflowed must be called exactly once");
    assertTrue(stuckDeliveries.get() <= 1, "delivered after overflow: " + stuckDeliveries.get());
    assertEquals(1, exchange.subscriberCount(), "the overflowed subscription is still registered");
  }

  @Test
  void closingStopsDeliveryAndUnregisters() throws Exception {
    EventExchangeService exchange = new EventExchangeService();
    Collector c = new Collector();
    Subscription s = exchange.subscribe(List.of(), c);
    exchange.publish("a", "/one", create("1"));
    c.await(1);
    s.close();
    s.close();
    exchange.publish("a", "/two", create("2"));
    Thread.sleep(50);
    assertEquals(List.of("a /one"), c.topics());
    assertEquals(0, exchange.subscriberCount());
    assertEquals(0, c.overflows.get());
  }
}
