package dev.jctr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class GlobalOptionsTest {

  @Test
  void globalOptionsAreAcceptedAfterTheSubcommand() {
    Jctr root = parse("plugins", "ls", "--namespace", "k8s.io", "--address", "/x.sock",
        "--format", "json");
    assertEquals("k8s.io", root.namespace);
    assertEquals(Path.of("/x.sock"), root.address);
    assertEquals(Jctr.Format.json, root.format);
  }

  @Test
  void globalOptionsAreAcceptedBeforeTheSubcommand() {
    Jctr root = parse("-n", "moby", "-a", "/y.sock", "plugins", "ls");
    assertEquals("moby", root.namespace);
    assertEquals(Path.of("/y.sock"), root.address);
  }

  @Test
  void namespaceDefaultsToDefaultOnTheClientSide() {
    Jctr root = parse("version");
    String expected = System.getenv().getOrDefault("JCTR_NAMESPACE", "default");
    assertEquals(expected, root.namespace);
  }

  @Test
  void unreachableDaemonIsReportedWithTheAddressAndTheFix() {
    StringWriter err = new StringWriter();
    int code = Jctr.run(new String[] {"--address", "/nonexistent/jctrd.sock", "--timeout", "5",
        "version"}, new PrintWriter(new StringWriter()), new PrintWriter(err));
    assertNotEquals(0, code);
    assertTrue(err.toString().contains("cannot reach jctrd at /nonexistent/jctrd.sock"),
        err.toString());
    assertTrue(err.toString().contains("is jctrd running?"), err.toString());
  }

  @Test
  void onlyTheNamedSubcommandIsBuiltAndAllForHelpOrUnknownNames() {
    assertEquals(java.util.Set.of("containers"),
        Jctr.commandLine(new String[] {"-n", "containers", "containers", "ls"})
            .getSubcommands().keySet().stream().filter(n -> n.startsWith("c")).filter(
                n -> !n.equals("c") && !n.equals("container")).collect(
                java.util.stream.Collectors.toSet()),
        "the value of -n was taken for the command");
    assertEquals(1, Jctr.commandLine(new String[] {"--namespace", "x", "c", "ls"})
        .getSubcommands().values().stream().distinct().count());
    assertEquals(Jctr.SUBCOMMANDS.size(), Jctr.commandLine(new String[] {"--help"})
        .getSubcommands().values().stream().distinct().count());
    assertEquals(Jctr.SUBCOMMANDS.size(), Jctr.commandLine(new String[] {"contianers"})
        .getSubcommands().values().stream().distinct().count());
  }

  private static Jctr parse(String... args) {
    CommandLine commandLine = Jctr.commandLine(args).setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.parseArgs(args);
    return commandLine.getCommand();
  }
}
