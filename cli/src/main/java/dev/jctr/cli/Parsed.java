package dev.jctr.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed command line: the command it selects, option values, positional values, and
 * whether help or the version was asked for.
 */
final class Parsed {

  private final Command command;
  private final Map<Option, List<String>> values;
  private final List<String> positionals;
  private final boolean help;

  private Parsed(Command command, Map<Option, List<String>> values, List<String> positionals,
      boolean help) {
    this.command = command;
    this.values = values;
    this.positionals = positionals;
    this.help = help;
  }

  /**
   * Parses {@code args} against the tree under {@code root}. Options may come before or after
   * the words that select a command; a command's options include those of the commands above
   * it. {@code --} ends the options.
   *
   * @throws UsageException naming what is wrong
   */
  static Parsed parse(Command root, String[] args) {
    Command command = root;
    Map<Option, List<String>> values = new HashMap<>();
    List<String> positionals = new ArrayList<>();
    boolean help = false;
    boolean optionsEnded = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (command.optionsEndAfter() >= 0 && positionals.size() >= command.optionsEndAfter()) {
        optionsEnded = true;
      }
      if (!optionsEnded && arg.equals("--")) {
        optionsEnded = true;
      } else if (!optionsEnded && arg.length() > 1 && arg.startsWith("-")) {
        if (arg.equals("-h") || arg.equals("--help")) {
          help = true;
          continue;
        }
        int eq = arg.startsWith("--") ? arg.indexOf('=') : -1;
        String name = eq > 0 ? arg.substring(0, eq) : arg;
        Option option = command.findOption(name);
        if (option == null) {
          if (help) {
            continue; // help wins over what it would have rejected
          }
          throw new UsageException(command, "unknown option " + name + " for \""
              + command.path() + "\"");
        }
        String value;
        if (!option.takesValue()) {
          if (eq > 0) {
            throw new UsageException(command, name + " takes no value");
          }
          value = "true";
        } else if (eq > 0) {
          value = arg.substring(eq + 1);
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          throw new UsageException(command, name + " needs a value (" + option.valueLabel()
              + ")");
        }
        values.computeIfAbsent(option, o -> new ArrayList<>()).add(value);
      } else if (!command.subcommands().isEmpty() && positionals.isEmpty()) {
        Command next = command.subcommand(arg);
        if (next == null) {
          if (help) {
            break;
          }
          throw new UsageException(command, "unknown command \"" + arg + "\" for \""
              + command.path() + "\"");
        }
        command = next;
      } else {
        positionals.add(arg);
      }
    }
    Parsed parsed = new Parsed(command, values, positionals, help);
    if (!help && command.action() != null) {
      parsed.checkPositionals();
    }
    return parsed;
  }

  private void checkPositionals() {
    int min = 0;
    long max = 0;
    for (Command.Positional p : command.positionals()) {
      min += p.min();
      max += p.max();
    }
    if (positionals.size() < min) {
      Command.Positional missing = command.positionals().get(0);
      int seen = 0;
      for (Command.Positional p : command.positionals()) {
        seen += p.min();
        if (positionals.size() < seen) {
          missing = p;
          break;
        }
      }
      throw new UsageException(command, "\"" + command.path() + "\" needs "
          + missing.label() + (missing.min() > 1 ? " (at least " + missing.min() + ")" : ""));
    }
    if (positionals.size() > max) {
      throw new UsageException(command, "unexpected argument \""
          + positionals.get((int) max) + "\" for \"" + command.path() + "\"");
    }
  }

  Command command() {
    return command;
  }

  boolean help() {
    return help;
  }

  /** Whether the flag named {@code name} (any of its names) was given. */
  boolean flag(String name) {
    return values.containsKey(option(name));
  }

  /** The option's last value, else its default (null when it has none). */
  String value(String name) {
    Option option = option(name);
    List<String> given = values.get(option);
    return given == null ? option.defaultValue() : given.get(given.size() - 1);
  }

  /** Every value a repeatable option was given, in order. */
  List<String> values(String name) {
    return values.getOrDefault(option(name), List.of());
  }

  List<String> positionals() {
    return positionals;
  }

  String positional(int index) {
    return positionals.get(index);
  }

  List<String> positionalsFrom(int index) {
    return positionals.subList(Math.min(index, positionals.size()), positionals.size());
  }

  private Option option(String name) {
    Option option = command.findOption(name);
    if (option == null) {
      throw new IllegalArgumentException("\"" + command.path() + "\" defines no option " + name);
    }
    return option;
  }
}
