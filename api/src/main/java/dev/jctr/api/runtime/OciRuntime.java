package dev.jctr.api.runtime;

import java.nio.file.Path;
import java.util.List;

/**
 * An OCI runtime (runc, crun) driven through its command line. Failures carry the runtime's
 * own message: {@code NotFoundException} for a container it does not know,
 * {@code FailedPreconditionException} otherwise.
 */
public interface OciRuntime {

  /** What {@code state} reports: status is created, running, paused or stopped. */
  record State(String id, String status, int pid, Path bundle) {}

  /**
   * Creates the container from {@code bundle} (its config.json and rootfs); the process waits
   * for {@link #start}. Its stdio go nowhere unless a console socket or the caller's fifos are
   * in the spec's process.
   */
  void create(String id, Path bundle, Path pidFile);

  void start(String id);

  State state(String id);

  void kill(String id, int signal, boolean all);

  void delete(String id, boolean force);

  /** The pids of the container's processes. */
  List<Integer> ps(String id);

  void pause(String id);

  void resume(String id);
}
