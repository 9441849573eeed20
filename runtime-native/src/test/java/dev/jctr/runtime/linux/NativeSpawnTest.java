package dev.jctr.runtime.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.FailedPreconditionException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class NativeSpawnTest {

  @TempDir Path dir;

  @Test
  @Timeout(30)
  void aProgramGetsItsStreamsAndNoneOfOurDescriptorsAndItsExitStatusComesBack()
      throws Exception {
    Path in = Files.writeString(dir.resolve("in"), "from-stdin\n");
    Path out = dir.resolve("out");
    Path err = Files.writeString(dir.resolve("err"), "earlier\n");
    // a descriptor of ours without close-on-exec must not reach the child
    try (RandomAccessFile held = new RandomAccessFile(dir.resolve("held").toFile(), "rw")) {
      int status = NativeSpawn.run(List.of("sh", "-c",
          "read line; echo \"got $line\"; ls /proc/self/fd >&2; exit 3"),
          new NativeSpawn.Stdio(in, out, err, true), 10);
      assertEquals(3, status);
    }
    assertEquals("got from-stdin\n", Files.readString(out));
    List<String> errLines = Files.readAllLines(err);
    assertEquals("earlier", errLines.get(0), "stderr appended to");
    // sh's 0, 1, 2 and the directory ls reads: nothing else
    assertEquals(List.of("0", "1", "2", "3"), errLines.subList(1, errLines.size()));
  }

  @Test
  @Timeout(30)
  void aProgramThatOutlivesItsTimeIsKilled() {
    long started = System.nanoTime();
    FailedPreconditionException e = assertThrows(FailedPreconditionException.class,
        () -> NativeSpawn.run(List.of("/bin/sleep", "30"),
            new NativeSpawn.Stdio(null, null, null, false), 1));
    assertTrue(e.getMessage().contains("did not finish within 1 s"), e.getMessage());
    assertTrue(System.nanoTime() - started < 10_000_000_000L);
  }

  @Test
  void aMissingProgramIsNamed() {
    FailedPreconditionException e = assertThrows(FailedPreconditionException.class,
        () -> NativeSpawn.run(List.of("jctr-no-such-program"),
            new NativeSpawn.Stdio(null, null, null, false), 5));
    assertTrue(e.getMessage().contains("jctr-no-such-program"), e.getMessage());
  }

  @Test
  @Timeout(120)
  void argumentsAndEnvironmentReachTheChildIntactWhileCollectionsRun() throws Exception {
    // the strings handed to posix_spawn live in native memory freed once unreachable: a
    // collection during the call must not free them (the child saw garbage: EFAULT)
    java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
    Thread collector = Thread.ofPlatform().start(() -> {
      while (!done.get()) {
        System.gc();
      }
    });
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
      List<java.util.concurrent.Future<Integer>> runs = new java.util.ArrayList<>();
      for (int i = 0; i < 400; i++) {
        String n = Integer.toString(i);
        runs.add(pool.submit(() -> NativeSpawn.run(List.of("/bin/sh", "-c",
                "[ \"$1\" = argument-" + n + " ] && [ \"$JCTR_SPAWN_CHECK\" = value-" + n + " ]",
                "sh", "argument-" + n), java.util.Map.of("JCTR_SPAWN_CHECK", "value-" + n),
            new NativeSpawn.Stdio(null, null, null, false), 30)));
      }
      for (int i = 0; i < runs.size(); i++) {
        assertEquals(0, runs.get(i).get(), "run " + i + " saw other arguments or environment");
      }
    } finally {
      done.set(true);
      collector.join();
    }
  }
}
