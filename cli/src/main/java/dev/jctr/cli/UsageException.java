package dev.jctr.cli;

/** A command line that cannot be run as written: exit code 2 and a pointer to the help. */
final class UsageException extends RuntimeException {

  private final transient Command command;

  UsageException(Command command, String message) {
    super(message);
    this.command = command;
  }

  /** The command whose help explains what was wrong. */
  Command command() {
    return command;
  }
}
