package dev.jctr.api.content;

import java.time.Instant;

/**
 * An ingest in progress: its ref, bytes written so far, expected total (0 when unknown) and
 * digest ("" when unknown), and when it started and last changed.
 */
public record IngestStatus(String ref, long offset, long total, String expected,
    Instant startedAt, Instant updatedAt) {}
