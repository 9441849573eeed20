package dev.jctr.api.errors;

/** A named object does not exist (in the caller's namespace). */
public final class NotFoundException extends JctrException {

  private static final long serialVersionUID = 1L;

  public NotFoundException(String context) {
    super(context, "not found", null);
  }

  public NotFoundException(String context, Throwable cause) {
    super(context, "not found", cause);
  }
}
