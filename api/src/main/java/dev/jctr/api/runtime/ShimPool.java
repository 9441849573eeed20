package dev.jctr.api.runtime;

/**
 * Shims started ahead of their first task, so that a shim's start (a JVM's, for jctr's shim)
 * does not sit in a pod's start. Provided by the task manager; the CRI asks for the pod shims
 * of its namespace once a kubelet is there.
 */
public interface ShimPool {

  /**
   * Starts, in the background, the shims that will take the pods of {@code namespace} on
   * {@code runtime} where that runtime's shim serves pods in a fixed number of groups (jctr's
   * shim: one per slot); does nothing for other runtimes. Idempotent while those shims run;
   * failures are logged, never thrown. A shim started so leaves after its idle time, as any.
   */
  void prestartPodShims(String namespace, String runtime);
}
