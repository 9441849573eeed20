package dev.jctr.kernel.grpc;

import dev.jctr.api.errors.ErrorStatus;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one place where SPI errors become gRPC statuses. Services may throw (unary handlers) or
 * pass an exception to {@code onError} (streams); either way the status the client sees comes
 * from {@link ErrorStatus}. Failures outside the vocabulary are logged once, as bugs.
 */
final class ErrorInterceptor implements ServerInterceptor {

  private static final Logger LOG = System.getLogger(ErrorInterceptor.class.getName());

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    MappingCall<Q, R> mapping = new MappingCall<>(call);
    ServerCall.Listener<Q> listener = next.startCall(mapping, headers);
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        guard(() -> super.onMessage(message));
      }

      @Override
      public void onHalfClose() {
        guard(super::onHalfClose);
      }

      @Override
      public void onReady() {
        guard(super::onReady);
      }

      private void guard(Runnable step) {
        try {
          step.run();
        } catch (RuntimeException e) {
          mapping.close(Status.fromThrowable(e), new Metadata());
        }
      }
    };
  }

  /** Rewrites UNKNOWN statuses that carry a known cause; closes at most once. */
  private static final class MappingCall<Q, R> extends SimpleForwardingServerCall<Q, R> {
    private final AtomicBoolean closed = new AtomicBoolean();

    MappingCall(ServerCall<Q, R> delegate) {
      super(delegate);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      Status mapped = status;
      if (status.getCode() == Status.Code.UNKNOWN && status.getCause() != null) {
        mapped = ErrorStatus.of(status.getCause());
        if (mapped.getCode() == Status.Code.UNKNOWN) {
          LOG.log(Level.WARNING, "unexpected failure in "
              + getMethodDescriptor().getFullMethodName(), status.getCause());
        }
      }
      super.close(mapped, trailers);
    }
  }
}
