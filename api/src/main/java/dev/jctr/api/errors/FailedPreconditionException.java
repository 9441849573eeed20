package dev.jctr.api.errors;

/** The system is not in a state the operation requires (for example, deleting a namespace that still holds objects). */
public final class FailedPreconditionException extends JctrException {

  private static final long serialVersionUID = 1L;

  public FailedPreconditionException(String context) {
    super(context, "failed precondition", null);
  }

  public FailedPreconditionException(String context, Throwable cause) {
    super(context, "failed precondition", cause);
  }
}
