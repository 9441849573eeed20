package dev.jctr.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.runtime.runc.RuncRuntime;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessStdioTest {

  private static Path fifo(Path path) throws Exception {
    Process mkfifo = new ProcessBuilder("mkfifo", path.toString()).start();
    assertEquals(0, mkfifo.waitFor(), "mkfifo");
    return path;
  }

  @Test
  void outputFifosOpenWithoutAReaderAndReachEndOfFileWhenClosed(@TempDir Path dir)
      throws Exception {
    Path out = fifo(dir.resolve("out"));
    ProcessStdio stdio = new ProcessStdio("", out.toString(), "");
    RuncRuntime.Stdio files = stdio.open(); // must not block: the shim holds the fifo
    assertNull(files.stdin());
    assertNull(files.stderr());
    // a writer as the process would be, through the file runc would be handed
    try (FileOutputStream process = new FileOutputStream(files.stdout())) {
      CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
        try (FileInputStream in = new FileInputStream(out.toFile())) {
          return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      process.write("hello\n".getBytes(StandardCharsets.UTF_8));
      process.close(); // the process exited...
      Thread.sleep(100);
      assertEquals(false, reader.isDone(), "the shim's hold keeps the reader open until exit");
      stdio.close(); // ...and was reaped
      assertEquals("hello\n", reader.get(5, TimeUnit.SECONDS));
    }
  }

  @Test
  void relativeStdioPathsAreRefused() {
    ProcessStdio stdio = new ProcessStdio("", "relative/out", "");
    assertThrows(InvalidArgumentException.class, stdio::open);
  }
}
