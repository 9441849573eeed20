package dev.jctr.kernel.config;

/** A config file that cannot be used; the message names the file and the problem. */
public final class ConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
