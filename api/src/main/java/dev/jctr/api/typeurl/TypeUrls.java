package dev.jctr.api.typeurl;

import com.google.protobuf.Any;
import com.google.protobuf.Message;

/**
 * containerd's Any type URLs: a protobuf message is named by its bare full name
 * ({@code containerd.events.TaskExit}), not by {@code type.googleapis.com/...}.
 */
public final class TypeUrls {

  /** The OCI runtime spec, carried as JSON in {@code Container.spec}. */
  public static final String OCI_SPEC = "types.containerd.io/opencontainers/runtime-spec/1/Spec";

  private TypeUrls() {}

  /** Packs {@code message} with containerd's type URL. */
  public static Any pack(Message message) {
    return Any.newBuilder()
        .setTypeUrl(message.getDescriptorForType().getFullName())
        .setValue(message.toByteString())
        .build();
  }

  /** The full message name an Any carries, whatever prefix its type URL has. */
  public static String messageName(Any any) {
    String url = any.getTypeUrl();
    int slash = url.lastIndexOf('/');
    return slash < 0 ? url : url.substring(slash + 1);
  }
}
