package dev.jctr.api.errors;

/** The request itself is malformed: a bad identifier, digest, path or size. */
public final class InvalidArgumentException extends JctrException {

  private static final long serialVersionUID = 1L;

  public InvalidArgumentException(String context) {
    super(context, "invalid argument", null);
  }

  public InvalidArgumentException(String context, Throwable cause) {
    super(context, "invalid argument", cause);
  }
}
