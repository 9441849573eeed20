package dev.jctr.kernel.grpc;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Where the in-process server runs a call, its default executor being direct: a unary call
 * runs on its caller's thread, as a method call would (the caller waits for it anyway, and
 * each hand-over to another thread costs a scheduling wait when the host is busy starting
 * pods). Calls that wait for an event ({@code Tasks/Wait}) and streaming calls get a thread of
 * their own from {@code waiting}, so that a caller's deadline ends its wait.
 */
final class LocalCallExecutor implements ServerCallExecutorSupplier {

  /** Unary calls that last until something happens rather than until their work is done. */
  static final Set<String> WAITING_CALLS = Set.of("containerd.services.tasks.v1.Tasks/Wait");

  private final Executor waiting;

  LocalCallExecutor(Executor waiting) {
    this.waiting = waiting;
  }

  @Override
  public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
    MethodDescriptor<Q, R> method = call.getMethodDescriptor();
    boolean direct = method.getType() == MethodDescriptor.MethodType.UNARY
        && !WAITING_CALLS.contains(method.getFullMethodName());
    return direct ? null : waiting; // null: the server's own, direct, executor
  }
}
