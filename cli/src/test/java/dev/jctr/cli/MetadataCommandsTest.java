package dev.jctr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.jctr.api.proto.containerd.events.ContainerDelete;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.types.Envelope;
import dev.jctr.api.typeurl.TypeUrls;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Parsing and rendering of the metadata commands, without a daemon. */
class MetadataCommandsTest {

  @Test
  void goDurationsParseAsCtrAcceptsThem() {
    assertEquals(Duration.ofHours(1), GoDuration.parse("1h"));
    assertEquals(Duration.ofMinutes(90), GoDuration.parse("1h30m"));
    assertEquals(Duration.ofMinutes(90), GoDuration.parse("1.5h"));
    assertEquals(Duration.ofMillis(250), GoDuration.parse("250ms"));
    assertEquals(Duration.ZERO, GoDuration.parse("0s"));
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> GoDuration.parse("1 hour"));
    assertTrue(bad.getMessage().contains("1h30m"), bad.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GoDuration.parse("10"));
  }

  @Test
  void labelsAreSortedWhenPrintedAndMalformedPairsRefused() {
    assertEquals("a=1,b=2", LabelArgs.format(Map.of("b", "2", "a", "1")));
    assertEquals("", LabelArgs.format(Map.of()));
    StringWriter err = new StringWriter();
    int code = Jctr.run(new String[] {"--address", "/nonexistent.sock", "namespaces", "create",
        "ns", "novalue"}, new PrintWriter(new StringWriter()), new PrintWriter(err));
    assertNotEquals(0, code);
    assertTrue(err.toString().contains("label \"novalue\": expected key=value"), err.toString());
  }

  @Test
  void containerTableMatchesCtrColumnsWithDashForNoImage() {
    String table = ContainersCommand.table(List.of(
        Container.newBuilder().setId("web").setImage("docker.io/library/nginx:1")
            .setRuntime(Container.Runtime.newBuilder().setName("io.containerd.runc.v2")).build(),
        Container.newBuilder().setId("bare")
            .setRuntime(Container.Runtime.newBuilder().setName("io.containerd.runc.v2")).build()));
    List<String> lines = table.lines().toList();
    assertEquals("CONTAINER   IMAGE                       RUNTIME", lines.get(0));
    assertEquals("web         docker.io/library/nginx:1   io.containerd.runc.v2", lines.get(1));
    assertEquals("bare        -                           io.containerd.runc.v2", lines.get(2));
  }

  @Test
  void infoShowsTheOciSpecDecodedAndUnknownAnysByType() {
    Container container = Container.newBuilder().setId("c1").putLabels("a", "b")
        .setSpec(ContainersCommand.minimalSpec(List.of("sleep", "1")))
        .setRuntime(Container.Runtime.newBuilder().setName("io.containerd.runc.v2")
            .setOptions(Any.newBuilder().setTypeUrl("containerd.runc.v1.Options")
                .setValue(ByteString.copyFromUtf8("xx"))))
        .putExtensions("ext", Any.newBuilder().setTypeUrl("example.Ext").build())
        .build();
    JsonObject json = ContainersCommand.toJson(container);
    assertEquals("c1", json.get("id").getAsString());
    assertEquals("b", json.getAsJsonObject("labels").get("a").getAsString());
    assertEquals("sleep", json.getAsJsonObject("spec").getAsJsonObject("process")
        .getAsJsonArray("args").get(0).getAsString());
    assertEquals("containerd.runc.v1.Options", json.getAsJsonObject("runtime")
        .getAsJsonObject("options").get("@type").getAsString());
    assertEquals("example.Ext", json.getAsJsonObject("extensions").getAsJsonObject("ext")
        .get("@type").getAsString());
    assertEquals(TypeUrls.OCI_SPEC, ContainersCommand.minimalSpec(List.of("sh")).getTypeUrl());
  }

  @Test
  void leaseExpiryBecomesTheGcExpireLabelInRfc3339() {
    Command create = Parsed.parse(Jctr.commands(), new String[] {"leases", "create"}).command();
    Clock clock = Clock.fixed(Instant.parse("2026-11-23T10:00:00.5Z"), ZoneOffset.UTC);
    assertEquals("2026-11-23T11:00:00Z", LeasesCommand.expiryLabel(create, "1h", clock));
    assertNull(LeasesCommand.expiryLabel(create, "0", clock), "0 means never");
    assertTrue(assertThrows(UsageException.class,
        () -> LeasesCommand.expiryLabel(create, "soon", clock)).getMessage()
        .startsWith("--expires: "));
  }

  @Test
  void eventLinesCarryTimeNamespaceTopicAndDecodedEvent() {
    Envelope envelope = Envelope.newBuilder()
        .setTimestamp(Timestamp.newBuilder().setSeconds(1_800_000_000L).setNanos(5))
        .setNamespace("k8s.io").setTopic("/containers/delete")
        .setEvent(TypeUrls.pack(ContainerDelete.newBuilder().setId("c1").build())).build();
    assertEquals("2027-01-15T08:00:00.000000005Z k8s.io /containers/delete {\"id\":\"c1\"}",
        EventsCommand.line(envelope));
    Envelope unknown = envelope.toBuilder()
        .setEvent(Any.newBuilder().setTypeUrl("example.Unknown")).build();
    assertTrue(EventsCommand.line(unknown).endsWith("{\"@type\":\"example.Unknown\"}"));
  }

  @Test
  void snapshotTreesSizesAndMountCommandsReadAsCtrPrintsThem() {
    List<dev.jctr.api.proto.containerd.services.snapshots.v1.Info> infos = List.of(
        info("base", ""), info("child", "base"), info("view", "child"), info("other", ""));
    assertEquals(" base\n  \\_ child\n    \\_ view\n other\n", SnapshotsCommand.tree(infos));
    assertEquals("8.0 B", SnapshotsCommand.humanSize(8));
    assertEquals("1.5 KiB", SnapshotsCommand.humanSize(1536));
    assertEquals("3.0 GiB", SnapshotsCommand.humanSize(3L << 30));
    StringWriter out = new StringWriter();
    SnapshotsCommand.printMounts(new PrintWriter(out, true), "/mnt", List.of(
        dev.jctr.api.proto.containerd.types.Mount.newBuilder().setType("overlay")
            .setSource("overlay").addOptions("lowerdir=/a:/b").addOptions("index=off").build()));
    assertEquals("mount -t overlay overlay /mnt -o lowerdir=/a:/b,index=off\n", out.toString());
  }

  private static dev.jctr.api.proto.containerd.services.snapshots.v1.Info info(String name,
      String parent) {
    return dev.jctr.api.proto.containerd.services.snapshots.v1.Info.newBuilder().setName(name)
        .setParent(parent).build();
  }
}
