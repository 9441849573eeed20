package dev.jctr.api.errors;

/** An object with that identity exists already. */
public final class AlreadyExistsException extends JctrException {

  private static final long serialVersionUID = 1L;

  public AlreadyExistsException(String context) {
    super(context, "already exists", null);
  }

  public AlreadyExistsException(String context, Throwable cause) {
    super(context, "already exists", cause);
  }
}
