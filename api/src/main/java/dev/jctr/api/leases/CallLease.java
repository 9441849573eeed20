package dev.jctr.api.leases;

import io.grpc.Context;
import java.util.Optional;

/**
 * The lease a call works under: gRPC metadata {@value #GRPC_HEADER}, as containerd's clients
 * send it. Content, snapshots and images the call creates are added to that lease, so the
 * collector keeps them while it lives. The kernel attaches it to the call's {@link Context}.
 */
public final class CallLease {

  /** gRPC metadata key carrying the lease id. */
  public static final String GRPC_HEADER = "containerd-lease";

  /** Context key the kernel fills; absent when the call carried no lease. */
  public static final Context.Key<String> KEY = Context.key("jctr-lease");

  private CallLease() {}

  /** The lease of the current call, or "" when it carried none. */
  public static String current() {
    String lease = KEY.get();
    return lease == null ? "" : lease;
  }

  /** The lease of the current call, when it carried one. */
  public static Optional<String> optional() {
    return Optional.ofNullable(KEY.get()).filter(lease -> !lease.isEmpty());
  }
}
