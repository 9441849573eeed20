package dev.jctr.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.jctr.api.proto.containerd.events.ContainerCreate;
import dev.jctr.api.proto.containerd.events.ContainerDelete;
import dev.jctr.api.proto.containerd.events.ContainerUpdate;
import dev.jctr.api.proto.containerd.events.NamespaceCreate;
import dev.jctr.api.proto.containerd.events.NamespaceDelete;
import dev.jctr.api.proto.containerd.events.NamespaceUpdate;
import dev.jctr.api.proto.containerd.services.events.v1.EventsGrpc;
import dev.jctr.api.proto.containerd.services.events.v1.SubscribeRequest;
import dev.jctr.api.proto.containerd.types.Envelope;
import dev.jctr.api.typeurl.TypeUrls;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** {@code jctr events}: follow the daemon's events until interrupted. */
final class EventsCommand {

  private static final Map<String, Message> KNOWN = Stream.<Message>of(
          ContainerCreate.getDefaultInstance(), ContainerUpdate.getDefaultInstance(),
          ContainerDelete.getDefaultInstance(), NamespaceCreate.getDefaultInstance(),
          NamespaceUpdate.getDefaultInstance(), NamespaceDelete.getDefaultInstance())
      .collect(Collectors.toUnmodifiableMap(m -> m.getDescriptorForType().getFullName(),
          Function.identity()));

  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

  private EventsCommand() {}

  static Command command() {
    return Command.named("events", "event")
        .describe("Print events as they happen: TIME NAMESPACE TOPIC EVENT.")
        .positionals("FILTER", 0, Command.MANY, "filters: topic==/containers/create, "
            + "namespace==k8s.io, event.id==c1 (any may match)")
        .runs(EventsCommand::run);
  }

  private static int run(Jctr root, Parsed args) {
    // no deadline: the stream lasts until the user stops it
    Iterator<Envelope> stream = root.stream(EventsGrpc.getSubscribeMethod(),
        SubscribeRequest.newBuilder().addAllFilters(args.positionals()).build());
    while (stream.hasNext()) {
      Envelope envelope = stream.next();
      root.out().println(root.json() ? Json.of(envelope) : line(envelope));
      root.out().flush();
    }
    return 0;
  }

  /** {@code <RFC 3339 time> <namespace> <topic> <event as JSON>}. */
  static String line(Envelope envelope) {
    Instant at = Instant.ofEpochSecond(envelope.getTimestamp().getSeconds(),
        envelope.getTimestamp().getNanos());
    return at + " " + envelope.getNamespace() + " " + envelope.getTopic() + " "
        + event(envelope);
  }

  private static String event(Envelope envelope) {
    Message prototype = KNOWN.get(TypeUrls.messageName(envelope.getEvent()));
    if (prototype == null) {
      return "{\"@type\":\"" + envelope.getEvent().getTypeUrl() + "\"}";
    }
    try {
      Message event = prototype.getParserForType().parseFrom(envelope.getEvent().getValue());
      return PRINTER.print(event);
    } catch (InvalidProtocolBufferException e) {
      return "{\"@type\":\"" + envelope.getEvent().getTypeUrl() + "\",\"error\":\"malformed\"}";
    }
  }
}
