package dev.jctr.api.errors;

/**
 * The project's error vocabulary. SPI code throws one of these subclasses; the kernel maps each
 * class to one gRPC status code ({@link ErrorStatus}), once, at the edge.
 *
 * <p>Messages follow containerd's convention {@code "<context>: <class text>"}, for example
 * {@code container "web" in namespace "k8s.io": not found}, so that containerd's clients (which
 * strip the class suffix) and people reading a log both see what failed and why.
 */
public abstract sealed class JctrException extends RuntimeException
    permits NotFoundException, AlreadyExistsException, FailedPreconditionException,
        InvalidArgumentException, UnavailableException, NotImplementedException {

  private static final long serialVersionUID = 1L;

  protected JctrException(String context, String classText, Throwable cause) {
    super(context == null || context.isEmpty() ? classText : context + ": " + classText, cause);
  }
}
