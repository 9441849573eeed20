package dev.jctr.events.exchange;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MapEntry;
import com.google.protobuf.Message;
import dev.jctr.api.filters.Fields;
import dev.jctr.api.proto.containerd.events.ContainerCreate;
import dev.jctr.api.proto.containerd.events.ContainerDelete;
import dev.jctr.api.proto.containerd.events.ContainerUpdate;
import dev.jctr.api.proto.containerd.events.NamespaceCreate;
import dev.jctr.api.proto.containerd.events.NamespaceDelete;
import dev.jctr.api.proto.containerd.events.NamespaceUpdate;
import dev.jctr.api.proto.containerd.types.Envelope;
import dev.jctr.api.typeurl.TypeUrls;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * An envelope as filters read it: {@code topic}, {@code namespace}, and {@code event.<field>}
 * for the event types this daemon knows, read by proto field name ({@code event.id},
 * {@code event.labels.team}, {@code event.runtime.name}). The event is decoded at most once,
 * and only when a filter asks for one of its fields.
 */
final class EnvelopeFields implements Fields {

  private static final Map<String, Message> KNOWN = Stream.<Message>of(
          ContainerCreate.getDefaultInstance(), ContainerUpdate.getDefaultInstance(),
          ContainerDelete.getDefaultInstance(), NamespaceCreate.getDefaultInstance(),
          NamespaceUpdate.getDefaultInstance(), NamespaceDelete.getDefaultInstance())
      .collect(Collectors.toUnmodifiableMap(m -> m.getDescriptorForType().getFullName(),
          Function.identity()));

  private final Envelope envelope;
  private Optional<Message> event;

  EnvelopeFields(Envelope envelope) {
    this.envelope = envelope;
  }

  @Override
  public Optional<String> field(List<String> path) {
    if (path.isEmpty()) {
      return Optional.empty();
    }
    return switch (path.get(0)) {
      case "topic" -> path.size() == 1 ? Optional.of(envelope.getTopic()) : Optional.empty();
      case "namespace" ->
          path.size() == 1 ? Optional.of(envelope.getNamespace()) : Optional.empty();
      case "event" -> event().flatMap(m -> read(m, path.subList(1, path.size())));
      default -> Optional.empty();
    };
  }

  private Optional<Message> event() {
    if (event == null) {
      event = decode(envelope.getEvent());
    }
    return event;
  }

  private static Optional<Message> decode(Any any) {
    Message prototype = KNOWN.get(TypeUrls.messageName(any));
    if (prototype == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(prototype.getParserForType().parseFrom(any.getValue()));
    } catch (InvalidProtocolBufferException e) {
      return Optional.empty(); // a malformed payload has no fields to match
    }
  }

  /** Walks message fields by name; a string map takes the next component as its key. */
  private static Optional<String> read(Message message, List<String> path) {
    if (path.isEmpty()) {
      return Optional.empty();
    }
    FieldDescriptor field = message.getDescriptorForType().findFieldByName(path.get(0));
    if (field == null) {
      return Optional.empty();
    }
    List<String> rest = path.subList(1, path.size());
    if (field.isMapField()) {
      if (rest.size() != 1) {
        return Optional.empty();
      }
      for (Object entry : (List<?>) message.getField(field)) {
        MapEntry<?, ?> e = (MapEntry<?, ?>) entry;
        if (rest.get(0).equals(String.valueOf(e.getKey()))) {
          return Optional.of(String.valueOf(e.getValue()));
        }
      }
      return Optional.empty();
    }
    if (field.isRepeated()) {
      return Optional.empty();
    }
    Object value = message.getField(field);
    if (value instanceof Message nested) {
      return read(nested, rest);
    }
    return rest.isEmpty() ? Optional.of(String.valueOf(value)) : Optional.empty();
  }
}
