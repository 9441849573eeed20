package dev.jctr.api.snapshots;

/** Disk use of one snapshot's own layer: bytes and inodes. */
public record Usage(long size, long inodes) {}
