package dev.jctr.api.namespace;

import dev.jctr.api.errors.FailedPreconditionException;
import io.grpc.Context;
import java.util.Optional;

/**
 * The namespace of the call being served. The kernel reads it from the request metadata
 * ({@value #GRPC_HEADER}), validates it, and attaches it to the call's {@link Context}; gRPC
 * service adapters read it here and pass it explicitly to the SPI. The server never guesses a
 * default: {@code default} is a client-side convention.
 */
public final class CallNamespace {

  /** gRPC metadata key carrying the namespace. */
  public static final String GRPC_HEADER = "containerd-namespace";

  /** ttrpc metadata key carrying the namespace. */
  public static final String TTRPC_HEADER = "containerd-namespace-ttrpc";

  /** Context key the kernel fills; absent when the call carried no namespace. */
  public static final Context.Key<String> KEY = Context.key("jctr-namespace");

  private CallNamespace() {}

  /** The namespace of the current call, when it carried one. */
  public static Optional<String> current() {
    return Optional.ofNullable(KEY.get());
  }

  /**
   * The namespace of the current call.
   *
   * @throws FailedPreconditionException "namespace is required" when the call carried none
   */
  public static String required() {
    String namespace = KEY.get();
    if (namespace == null) {
      throw new FailedPreconditionException("namespace is required");
    }
    return namespace;
  }
}
