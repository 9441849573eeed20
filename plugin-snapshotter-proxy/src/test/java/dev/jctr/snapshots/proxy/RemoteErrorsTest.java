package dev.jctr.snapshots.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.jctr.api.errors.AlreadyExistsException;
import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.errors.UnavailableException;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

class RemoteErrorsTest {

  @Test
  void theRemoteCodeSurvivesAndItsWordsAreNotDoubled() {
    RuntimeException notFound = RemoteErrors.translate("stargz", Status.NOT_FOUND
        .withDescription("snapshot \"k\": not found").asRuntimeException());
    assertInstanceOf(NotFoundException.class, notFound);
    assertEquals("proxy snapshotter \"stargz\": snapshot \"k\": not found",
        notFound.getMessage());
    assertInstanceOf(AlreadyExistsException.class, RemoteErrors.translate("s",
        Status.ALREADY_EXISTS.asRuntimeException()));
    assertInstanceOf(FailedPreconditionException.class, RemoteErrors.translate("s",
        Status.FAILED_PRECONDITION.withDescription("x: failed precondition")
            .asRuntimeException()));
    assertInstanceOf(UnavailableException.class, RemoteErrors.translate("s",
        Status.UNAVAILABLE.withDescription("connection refused").asRuntimeException()));
  }
}
