package dev.jctr.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.util.List;
import java.util.stream.Collectors;

/** Protobuf messages as JSON, with the proto field names containerd's tools print. */
final class Json {

  private static final JsonFormat.Printer PRINTER = JsonFormat.printer()
      .preservingProtoFieldNames()
      .omittingInsignificantWhitespace();

  private Json() {}

  static String of(MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot render " + message.getClass().getSimpleName(), e);
    }
  }

  static String array(List<? extends MessageOrBuilder> messages) {
    return messages.stream().map(Json::of).collect(Collectors.joining(",", "[", "]"));
  }
}
