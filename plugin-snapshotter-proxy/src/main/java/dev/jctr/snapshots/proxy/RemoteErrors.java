package dev.jctr.snapshots.proxy;

import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.errors.NotImplementedException;
import dev.jctr.api.errors.UnavailableException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A remote snapshotter's error as the SPI's own, so that a client of jctrd sees the code the
 * remote gave (a remote NotFound is NotFound here), prefixed with which proxy said it.
 */
final class RemoteErrors {

  private RemoteErrors() {}

  static RuntimeException translate(String proxy, StatusRuntimeException e) {
    Status status = e.getStatus();
    String context = "proxy snapshotter \"" + proxy + "\": " + strip(status.getDescription(),
        status.getCode());
    return switch (status.getCode()) {
      case NOT_FOUND -> new NotFoundException(context, e);
      case ALREADY_EXISTS -> new AlreadyExistsException(context, e);
      case FAILED_PRECONDITION -> new FailedPreconditionException(context, e);
      case INVALID_ARGUMENT -> new InvalidArgumentException(context, e);
      case UNIMPLEMENTED -> new NotImplementedException(context, e);
      case UNAVAILABLE, DEADLINE_EXCEEDED -> new UnavailableException(context, e);
      default -> new IllegalStateException(context + " (" + status.getCode() + ")", e);
    };
  }

  /** Drops the code's words from the end of a description, as our exceptions add them back. */
  static String strip(String description, Status.Code code) {
    if (description == null) {
      return "";
    }
    String words = ": " + code.name().toLowerCase().replace('_', ' ');
    return description.endsWith(words)
        ? description.substring(0, description.length() - words.length()) : description;
  }
}
