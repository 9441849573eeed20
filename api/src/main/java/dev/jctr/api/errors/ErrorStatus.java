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

  /**
   * The inverse, for a status another server sent (a proxy snapshotter, a shim): the
   * vocabulary's exception for {@code code}, with {@code context} and the server's description
   * (its class text, e.g. {@code : not found}, dropped: the exception adds its own), or empty
   * for a code outside the vocabulary.
   */
  public static java.util.Optional<JctrException> exception(Status.Code code, String context,
      String description, Throwable cause) {
    JctrException bare = create(code, "", null);
    if (bare == null) {
      return java.util.Optional.empty();
    }
    String text = description == null ? "" : description;
    String classText = ": " + bare.getMessage();
    if (text.endsWith(classText)) {
      text = text.substring(0, text.length() - classText.length());
    } else if (text.equals(bare.getMessage())) {
      text = "";
    }
    String message = context.isEmpty() ? text : text.isEmpty() ? context : context + ": " + text;
    return java.util.Optional.of(create(code, message, cause));
  }

  private static JctrException create(Status.Code code, String message, Throwable cause) {
    return switch (code) {
      case NOT_FOUND -> new NotFoundException(message, cause);
      case ALREADY_EXISTS -> new AlreadyExistsException(message, cause);
      case FAILED_PRECONDITION -> new FailedPreconditionException(message, cause);
      case INVALID_ARGUMENT -> new InvalidArgumentException(message, cause);
      case UNIMPLEMENTED -> new NotImplementedException(message, cause);
      case UNAVAILABLE, DEADLINE_EXCEEDED -> new UnavailableException(message, cause);
      default -> null;
    };
  }

  private static String describe(Throwable failure) {
    String message = failure.getMessage();
    return message == null ? failure.getClass().getName() : message;
  }
}
