package dev.jctr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class GlobalOptionsTest {

  private static Jctr root(String... args) {
    return new Jctr(Parsed.parse(Jctr.commands(), args), new PrintWriter(new StringWriter()),
        new PrintWriter(new StringWriter()));
  }

  @Test
  void globalOptionsAreAcceptedAfterTheSubcommand() {
    Jctr root = root("plugins", "ls", "--namespace", "k8s.io", "--address", "/x.sock",
        "--format", "JSON");
    assertEquals("k8s.io", root.namespace);
    assertEquals(Path.of("/x.sock"), root.address);
    assertEquals(Jctr.Format.json, root.format);
  }

  @Test
  void globalOptionsAreAcceptedBeforeTheSubcommand() {
    Jctr root = root("-n", "moby", "-a", "/y.sock", "--timeout=5", "plugins", "ls");
    assertEquals("moby", root.namespace);
    assertEquals(Path.of("/y.sock"), root.address);
    assertEquals(5, root.timeoutSeconds);
  }

  @Test
  void aGlobalValueThatNamesACommandIsStillAValue() {
    Parsed parsed = Parsed.parse(Jctr.commands(), new String[] {"-n", "containers",
        "containers", "ls"});
    assertEquals("containers list", parsed.command().path().substring(5));
    assertEquals("containers", parsed.value("--namespace"));
  }

  @Test
  void namespaceDefaultsToDefaultOnTheClientSide() {
    Jctr root = root("version");
    String expected = System.getenv().getOrDefault("JCTR_NAMESPACE", "default");
    assertEquals(expected, root.namespace);
  }

  @Test
  void unreachableDaemonIsReportedWithTheAddressAndTheFix() {
    StringWriter err = new StringWriter();
    int code = Jctr.run(new String[] {"--address", "/nonexistent/jctrd.sock", "--timeout", "5",
        "version"}, new PrintWriter(new StringWriter()), new PrintWriter(err));
    assertEquals(1, code);
    assertTrue(err.toString().contains("cannot reach jctrd at /nonexistent/jctrd.sock"),
        err.toString());
    assertTrue(err.toString().contains("is jctrd running?"), err.toString());
  }

  @Test
  void badGlobalValuesAreUsageErrors() {
    StringWriter err = new StringWriter();
    assertEquals(2, Jctr.run(new String[] {"--format", "yaml", "version"},
        new PrintWriter(new StringWriter()), new PrintWriter(err)));
    assertTrue(err.toString().contains("\"yaml\" is not one of table, json"), err.toString());
    err.getBuffer().setLength(0);
    assertNotEquals(0, Jctr.run(new String[] {"--timeout", "-3", "version"},
        new PrintWriter(new StringWriter()), new PrintWriter(err)));
    assertTrue(err.toString().contains("--timeout"), err.toString());
  }
}
