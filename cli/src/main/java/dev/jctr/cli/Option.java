package dev.jctr.cli;

import java.util.List;

/**
 * One option of a command: its names ({@code -q}, {@code --quiet}), the label of its value
 * ({@code null} for a flag), help text, and the value it has when not given.
 */
record Option(List<String> names, String valueLabel, String description, String defaultValue) {

  static Option flag(String description, String... names) {
    return new Option(List.of(names), null, description, null);
  }

  static Option value(String label, String description, String... names) {
    return new Option(List.of(names), label, description, null);
  }

  Option withDefault(String value) {
    return new Option(names, valueLabel, description, value);
  }

  boolean takesValue() {
    return valueLabel != null;
  }

  /** The name errors and help use: the long one when there is one. */
  String longName() {
    return names.get(names.size() - 1);
  }
}
