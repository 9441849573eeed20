package dev.jctr.kernel.grpc;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * At log level trace, one line per call: method, status and time from its start to its close
 * (for finding where a client's wall time goes). Costs nothing at other levels.
 */
final class CallLogInterceptor implements ServerInterceptor {

  private static final Logger LOG = System.getLogger(CallLogInterceptor.class.getName());

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (!LOG.isLoggable(Level.TRACE)) {
      return next.startCall(call, headers);
    }
    long started = System.nanoTime();
    return next.startCall(new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        LOG.log(Level.TRACE, "{0} {1} {2} us", call.getMethodDescriptor().getFullMethodName(),
            status.getCode(), (System.nanoTime() - started) / 1000);
        super.close(status, trailers);
      }
    }, headers);
  }
}
