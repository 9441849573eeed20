package dev.jctr.cli;

import java.util.ArrayList;
import java.util.List;

/** A command's help text: usage line, description, subcommands, parameters and options. */
final class Help {

  private Help() {}

  static String of(Command command) {
    StringBuilder text = new StringBuilder();
    StringBuilder usage = new StringBuilder("Usage: ").append(command.path()).append(" [OPTIONS]");
    if (!command.subcommands().isEmpty()) {
      usage.append(" COMMAND");
    }
    for (Command.Positional p : command.positionals()) {
      String label = p.max() > 1 ? p.label() + "..." : p.label();
      usage.append(' ').append(p.min() == 0 ? "[" + label + "]" : label);
    }
    text.append(usage).append("\n");
    if (!command.description().isEmpty()) {
      text.append("\n").append(command.description()).append("\n");
    }
    if (!command.subcommands().isEmpty()) {
      List<String[]> rows = new ArrayList<>();
      for (Command sub : command.subcommands()) {
        String names = sub.aliases().isEmpty() ? sub.name()
            : sub.name() + ", " + String.join(", ", sub.aliases());
        rows.add(new String[] {names, sub.description()});
      }
      section(text, "Commands", rows);
    }
    if (!command.positionals().isEmpty()) {
      List<String[]> rows = new ArrayList<>();
      for (Command.Positional p : command.positionals()) {
        rows.add(new String[] {p.label(), p.description()});
      }
      section(text, "Parameters", rows);
    }
    List<String[]> rows = new ArrayList<>();
    for (Command c = command; c != null; c = c.parent()) {
      for (Option option : c.options()) {
        String names = String.join(", ", option.names())
            + (option.takesValue() ? " " + option.valueLabel() : "");
        String description = option.description()
            + (option.defaultValue() != null && option.takesValue()
                ? " (default " + option.defaultValue() + ")" : "");
        rows.add(new String[] {names, description});
      }
    }
    rows.add(new String[] {"-h, --help", "show this help"});
    section(text, command.parent() == null ? "Options" : "Options (with the global ones)",
        rows);
    return text.toString();
  }

  private static void section(StringBuilder text, String title, List<String[]> rows) {
    int width = 0;
    for (String[] row : rows) {
      width = Math.max(width, row[0].length());
    }
    text.append("\n").append(title).append(":\n");
    for (String[] row : rows) {
      text.append("  ").append(row[0]);
      if (!row[1].isEmpty()) {
        text.append(" ".repeat(width - row[0].length() + 3)).append(row[1]);
      }
      text.append("\n");
    }
  }
}
