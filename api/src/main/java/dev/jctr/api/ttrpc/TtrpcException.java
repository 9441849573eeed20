package dev.jctr.api.ttrpc;

import io.grpc.Status;

/** A ttrpc call that ended with a status other than OK: its gRPC code and message. */
public final class TtrpcException extends RuntimeException {

  private final Status.Code code;

  public TtrpcException(Status.Code code, String message) {
    super(code + ": " + message);
    this.code = code;
  }

  public Status.Code code() {
    return code;
  }

  /** The status message as the peer sent it. */
  public String statusMessage() {
    String text = getMessage();
    return text.substring(text.indexOf(": ") + 2);
  }
}
