package dev.jctr.api.errors;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CancellationException;

/**
 * Maps the project's errors to gRPC status codes, with containerd's table: one class, one code.
 * Servers apply it once at the edge; nothing below the edge speaks gRPC status.
 */
public final class ErrorStatus {

  private ErrorStatus() {}

  /** The status a failure is reported with. Unknown failures become UNKNOWN with their message. */
  public static Status of(Throwable failure) {
    return switch (failure) {
      case NotFoundException e -> Status.NOT_FOUND.withDescription(e.getMessage()).withCause(e);
      case AlreadyExistsException e ->
          Status.ALREADY_EXISTS.withDescription(e.getMessage()).withCause(e);
      case FailedPreconditionException e ->
          Status.FAILED_PRECONDITION.withDescription(e.getMessage()).withCause(e);
      case InvalidArgumentException e ->
          Status.INVALID_ARGUMENT.withDescription(e.getMessage()).withCause(e);
      case UnavailableException e -> Status.UNAVAILABLE.withDescription(e.getMessage()).withCause(e);
      case NotImplementedException e ->
          Status.UNIMPLEMENTED.withDescription(e.getMessage()).withCause(e);
      case StatusRuntimeException e -> e.getStatus();
      case StatusException e -> e.getStatus();
      case CancellationException e -> Status.CANCELLED.withDescription(e.getMessage()).withCause(e);
      default -> Status.UNKNOWN.withDescription(describe(failure)).withCause(failure);
    };
  }

  private static String describe(Throwable failure) {
    String message = failure.getMessage();
    return message == null ? failure.getClass().getName() : message;
  }
}
