package dev.jctr.snapshots.proxy;

import dev.jctr.api.errors.ErrorStatus;
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
    String context = "proxy snapshotter \"" + proxy + "\"";
    RuntimeException known = ErrorStatus.exception(status.getCode(), context,
        status.getDescription(), e).orElse(null);
    return known != null ? known : new IllegalStateException(context + ": "
        + status.getDescription() + " (" + status.getCode() + ")", e);
  }
}
