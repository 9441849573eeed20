package dev.jctr.itest;

/** What a finished command printed, and how it exited. */
record CommandResult(int exitCode, String stdout, String stderr) {

  CommandResult requireSuccess(String what) {
    if (exitCode != 0) {
      throw new AssertionError(what + " exited " + exitCode + "\nstdout:\n" + stdout
          + "\nstderr:\n" + stderr);
    }
    return this;
  }
}
