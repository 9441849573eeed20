package dev.jctr.api.content;

import java.time.Instant;

/** A committed blob: its digest, size, and when it was committed. */
public record BlobInfo(String digest, long size, Instant committedAt) {}
