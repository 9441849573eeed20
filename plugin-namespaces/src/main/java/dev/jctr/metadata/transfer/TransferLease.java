package dev.jctr.metadata.transfer;

import dev.jctr.metadata.store.LeaseStore;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The lease a pull or an import holds while it runs, so the collector keeps what it stored
 * until an image record holds it. Such a transfer dies with the daemon, so its leases are
 * deleted when the daemon starts again.
 */
public final class TransferLease {

  /** Marks transfer leases. */
  public static final String LABEL = "jctr.dev/transfer";
  private static final Duration EXPIRY = Duration.ofHours(24);

  private TransferLease() {}

  public static String create(LeaseStore leases, String namespace) {
    return leases.create(namespace, "", Map.of(LABEL, "true",
        "containerd.io/gc.expire", Instant.now().plus(EXPIRY).toString())).getId();
  }
}
