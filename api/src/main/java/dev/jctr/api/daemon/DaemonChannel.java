package dev.jctr.api.daemon;

import io.grpc.Channel;

/**
 * The daemon's own gRPC API, in process. A plugin that builds on other services (the CRI on
 * containers, snapshots and tasks, as containerd's CRI builds on its client) calls them through
 * this channel, so it gets exactly what an external client gets: the same validation,
 * namespaces, leases, events and errors, without a socket round trip. The namespace travels as
 * the {@code containerd-namespace} header, as on the wire.
 */
public interface DaemonChannel {

  Channel channel();
}
