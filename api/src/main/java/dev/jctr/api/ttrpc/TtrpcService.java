package dev.jctr.api.ttrpc;

import java.util.Map;

/**
 * A ttrpc service a bundle offers on the daemon's ttrpc socket ({@code <grpc address>.ttrpc}):
 * registered in the service registry, it is served while registered (a whiteboard, as for gRPC).
 */
public interface TtrpcService {

  /** The full proto service name, e.g. {@code containerd.services.events.ttrpc.v1.Events}. */
  String name();

  /** Its methods by name. */
  Map<String, TtrpcServer.Method> methods();
}
