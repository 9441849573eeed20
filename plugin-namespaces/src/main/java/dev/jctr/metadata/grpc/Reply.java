package dev.jctr.metadata.grpc;

import io.grpc.stub.StreamObserver;

/** The end of every unary call: one value, then completion. */
final class Reply {

  private Reply() {}

  static <T> void send(StreamObserver<T> response, T value) {
    response.onNext(value);
    response.onCompleted();
  }
}
