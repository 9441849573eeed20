package dev.jctr.api.errors;

/** The resource exists but cannot be used now (for example, an ingest locked by another writer); retrying later may succeed. */
public final class UnavailableException extends JctrException {

  private static final long serialVersionUID = 1L;

  public UnavailableException(String context) {
    super(context, "unavailable", null);
  }

  public UnavailableException(String context, Throwable cause) {
    super(context, "unavailable", cause);
  }
}
