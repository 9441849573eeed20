package dev.jctr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command tree and its parser: what is accepted, what is refused and how. */
class CommandLineTest {

  private static Parsed parse(String... args) {
    return Parsed.parse(Jctr.commands(), args);
  }

  private static String usageError(String... args) {
    return assertThrows(UsageException.class, () -> parse(args)).getMessage();
  }

  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Jctr.run(args, new PrintWriter(out), new PrintWriter(err));
    return new String[] {Integer.toString(code), out.toString(), err.toString()};
  }

  @Test
  void aliasesSelectTheSameCommand() {
    assertEquals("jctr containers list", parse("c", "ls").command().path());
    assertEquals("jctr namespaces remove", parse("ns", "rm", "x").command().path());
    assertEquals("jctr leases delete", parse("lease", "del", "l1").command().path());
  }

  @Test
  void flagsValuesAndPositionalsAreParsed() {
    Parsed list = parse("containers", "ls", "-q", "labels.a==b", "image~=^busybox");
    assertTrue(list.flag("--quiet"));
    assertTrue(list.flag("-q"), "any of an option's names finds it");
    assertEquals(List.of("labels.a==b", "image~=^busybox"), list.positionals());

    Parsed create = parse("containers", "create", "--label", "a=1", "--label=b=2",
        "--image", "busybox", "c1");
    assertEquals(List.of("a=1", "b=2"), create.values("--label"));
    assertEquals("busybox", create.value("--image"));
    assertEquals(ContainersCommand.DEFAULT_RUNTIME, create.value("--runtime"));
    assertEquals("c1", create.positional(0));
  }

  @Test
  void doubleDashEndsTheOptions() {
    assertEquals(List.of("-q"), parse("containers", "ls", "--", "-q").positionals());
  }

  @Test
  void mistakesAreNamedWithTheCommandTheyBelongTo() {
    assertTrue(usageError("containers", "ls", "--bogus")
        .contains("unknown option --bogus for \"jctr containers list\""));
    assertTrue(usageError("contianers").contains("unknown command \"contianers\" for \"jctr\""));
    assertTrue(usageError("containers", "info").contains("needs ID"));
    assertTrue(usageError("containers", "info", "a", "b").contains("unexpected argument \"b\""));
    assertTrue(usageError("namespaces", "label", "ns").contains("needs KEY=VALUE"));
    assertTrue(usageError("containers", "create", "--image").contains("--image needs a value"));
    assertTrue(usageError("containers", "ls", "--quiet=yes").contains("takes no value"));
  }

  @Test
  void usageErrorsExitWithTwoAndPointAtTheHelp() {
    String[] result = run("containers", "info");
    assertEquals("2", result[0]);
    assertTrue(result[2].contains("Run 'jctr containers info --help' for usage."), result[2]);
  }

  @Test
  void helpListsCommandsOptionsAndGlobalOptions() {
    String[] root = run("--help");
    assertEquals("0", root[0]);
    for (String command : List.of("version", "plugins", "namespaces", "containers", "leases", "snapshots", "content", "images",
        "events")) {
      assertTrue(root[1].contains("\n  " + command), command + " missing from\n" + root[1]);
    }
    String[] create = run("containers", "create", "--help");
    assertTrue(create[1].startsWith("Usage: jctr containers create [OPTIONS] ID"), create[1]);
    assertTrue(create[1].contains("--runtime NAME"), create[1]);
    assertTrue(create[1].contains("-n, --namespace NAME"), "global options are listed too");
    String[] group = run("containers");
    assertEquals("0", group[0]);
    assertTrue(group[1].contains("list, ls"), group[1]);
    assertFalse(group[1].contains("--runtime"));
  }

  @Test
  void everyLeafCommandRunsSomethingAndEveryGroupHasCommands() {
    check(Jctr.commands());
  }

  private static void check(Command command) {
    assertTrue(command.action() != null ^ !command.subcommands().isEmpty(),
        command.path() + " must either run or have subcommands");
    assertFalse(command.description().isEmpty(), command.path() + " has no description");
    command.subcommands().forEach(CommandLineTest::check);
  }
}
