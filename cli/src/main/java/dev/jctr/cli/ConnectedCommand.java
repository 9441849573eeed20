package dev.jctr.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A leaf command that opens one connection to jctrd, runs, and closes it. */
abstract class ConnectedCommand implements Callable<Integer>, Jctr.Connected {

  @Spec CommandSpec spec;

  @Override
  public Jctr root() {
    return (Jctr) spec.root().userObject();
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  boolean json() {
    return root().format == Jctr.Format.json;
  }

  @Override
  public Integer call() throws Exception {
    try (DaemonConnection connection = root().connect()) {
      run(connection);
    }
    out().flush();
    return 0;
  }

  abstract void run(DaemonConnection connection) throws Exception;
}
