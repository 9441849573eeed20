package dev.jctr.kernel.grpc;

import dev.jctr.api.errors.ErrorStatus;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.identifiers.Identifiers;
import dev.jctr.api.leases.CallLease;
import dev.jctr.api.namespace.CallNamespace;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Reads the caller's namespace from {@code containerd-namespace} once, for every call, validates
 * it, and attaches it to the call's context ({@link CallNamespace}), with the lease from
 * {@code containerd-lease} when there is one ({@link CallLease}). A call without the header
 * proceeds without a namespace; services that need one then fail with "namespace is required".
 */
final class NamespaceInterceptor implements ServerInterceptor {

  private static final Metadata.Key<String> HEADER =
      Metadata.Key.of(CallNamespace.GRPC_HEADER, Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> LEASE =
      Metadata.Key.of(CallLease.GRPC_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String namespace = headers.get(HEADER); // containerd uses the first value
    String lease = headers.get(LEASE);
    if (namespace == null) {
      return next.startCall(call, headers);
    }
    if (!Identifiers.isValid(namespace)) {
      InvalidArgumentException error = invalid(namespace);
      call.close(ErrorStatus.of(error), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    Context context = Context.current().withValue(CallNamespace.KEY, namespace);
    if (lease != null && !lease.isEmpty()) {
      context = context.withValue(CallLease.KEY, lease);
    }
    return Contexts.interceptCall(context, call, headers, next);
  }

  private static InvalidArgumentException invalid(String namespace) {
    try {
      Identifiers.validate("namespace", namespace);
      throw new IllegalStateException("unreachable: " + namespace + " is valid");
    } catch (InvalidArgumentException e) {
      return e;
    }
  }
}
