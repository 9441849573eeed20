package dev.jctr.api.errors;

/** The operation is not supported by this implementation. */
public final class NotImplementedException extends JctrException {

  private static final long serialVersionUID = 1L;

  public NotImplementedException(String context) {
    super(context, "not implemented", null);
  }

  public NotImplementedException(String context, Throwable cause) {
    super(context, "not implemented", cause);
  }
}
