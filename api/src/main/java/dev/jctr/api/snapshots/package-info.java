/**
 * The snapshotter SPI. A bundle that registers a {@link dev.jctr.api.snapshots.Snapshotter}
 * service with the property {@code name} is a snapshotter; that is the whole SDK.
 */
package dev.jctr.api.snapshots;
