package dev.jctr.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * A command of the {@code jctr} tree, described in code: name and aliases, a line of help,
 * options, positional parameters, and either subcommands or an action. Built without
 * reflection, because a one-shot command line pays for every millisecond of start-up.
 */
final class Command {

  /** Any number of positional values. */
  static final int MANY = Integer.MAX_VALUE;

  /** What a leaf command does once its arguments are parsed; returns the exit code. */
  @FunctionalInterface
  interface Action {
    int run(Jctr root, Parsed args) throws Exception;
  }

  /** Positional parameters under one label, from {@code min} to {@code max} of them. */
  record Positional(String label, int min, int max, String description) {}

  private final String name;
  private final List<String> aliases;
  private String description = "";
  private final List<Option> options = new ArrayList<>();
  private final List<Positional> positionals = new ArrayList<>();
  private final List<Command> subcommands = new ArrayList<>();
  private Command parent;
  private Action action;
  private int optionsEndAfter = -1;

  private Command(String name, List<String> aliases) {
    this.name = name;
    this.aliases = aliases;
  }

  static Command named(String name, String... aliases) {
    return new Command(name, List.of(aliases));
  }

  Command describe(String text) {
    this.description = text;
    return this;
  }

  Command option(Option option) {
    options.add(option);
    return this;
  }

  /** One required positional value. */
  Command positional(String label, String description) {
    return positionals(label, 1, 1, description);
  }

  Command positionals(String label, int min, int max, String description) {
    positionals.add(new Positional(label, min, max, description));
    return this;
  }

  Command subcommands(Command... commands) {
    for (Command command : commands) {
      command.parent = this;
      subcommands.add(command);
    }
    return this;
  }

  /**
   * Options end after {@code count} positional values, as in {@code run IMAGE ID CMD...}: what
   * follows belongs to the container's command, dashes and all.
   */
  Command optionsEndAfter(int count) {
    this.optionsEndAfter = count;
    return this;
  }

  int optionsEndAfter() {
    return optionsEndAfter;
  }

  Command runs(Action action) {
    this.action = action;
    return this;
  }

  String name() {
    return name;
  }

  List<String> aliases() {
    return aliases;
  }

  String description() {
    return description;
  }

  List<Option> options() {
    return options;
  }

  List<Positional> positionals() {
    return positionals;
  }

  List<Command> subcommands() {
    return subcommands;
  }

  Command parent() {
    return parent;
  }

  Action action() {
    return action;
  }

  /** {@code jctr containers list}: the words that select this command. */
  String path() {
    return parent == null ? name : parent.path() + " " + name;
  }

  Command subcommand(String word) {
    for (Command command : subcommands) {
      if (command.name.equals(word) || command.aliases.contains(word)) {
        return command;
      }
    }
    return null;
  }

  /** The option named {@code word} here or on a command above, whose options are global. */
  Option findOption(String word) {
    for (Command command = this; command != null; command = command.parent) {
      for (Option option : command.options) {
        if (option.names().contains(word)) {
          return option;
        }
      }
    }
    return null;
  }
}
