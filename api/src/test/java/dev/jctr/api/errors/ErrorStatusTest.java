package dev.jctr.api.errors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

class ErrorStatusTest {

  @Test
  void aStatusFromAnotherServerBecomesTheSameClassWithoutADoubledSuffix() {
    for (JctrException sent : List.of(new NotFoundException("container \"x\""),
        new AlreadyExistsException("exec \"e\""), new FailedPreconditionException("running"),
        new InvalidArgumentException("bad id"), new UnavailableException("shim"),
        new NotImplementedException("checkpoint"))) {
      Status status = ErrorStatus.of(sent);
      JctrException received = ErrorStatus.exception(status.getCode(), "", status
          .getDescription(), null).orElseThrow();
      assertEquals(sent.getClass(), received.getClass());
      assertEquals(sent.getMessage(), received.getMessage(), "no class text twice");
    }
    JctrException withContext = ErrorStatus.exception(Status.Code.NOT_FOUND,
        "proxy snapshotter \"p\"", "snapshot \"k\": not found", null).orElseThrow();
    assertEquals("proxy snapshotter \"p\": snapshot \"k\": not found", withContext.getMessage());
    assertInstanceOf(UnavailableException.class, ErrorStatus.exception(
        Status.Code.DEADLINE_EXCEEDED, "", "slow", null).orElseThrow());
    assertTrue(ErrorStatus.exception(Status.Code.UNKNOWN, "", "?", null).isEmpty(),
        "codes outside the vocabulary are left to the caller");
  }
}
