package dev.jctr.api.filters;

import java.util.ArrayList;
import java.util.List;

/**
 * A parsed filter: selectors joined by {@code ,} must all match (AND); several filter strings
 * given together are alternatives (OR). An empty filter matches everything. Filters are
 * immutable and safe to share between threads.
 *
 * <p>Grammar, as containerd documents it: {@code selector := fieldpath [("==" | "!=" | "~=")
 * value]}; a fieldpath is components joined by {@code .}, each an identifier or a double-quoted
 * string ({@code labels."io.kubernetes.pod.name"}); a value is a double-quoted string or a bare
 * run of characters up to the next {@code ,}. For {@code ~=} a value written {@code /.../} is the
 * regular expression between the slashes; any other value is the expression itself.
 */
public final class Filter {

  private static final Filter ALWAYS = new Filter(List.of());

  private final List<List<Selector>> alternatives;

  private Filter(List<List<Selector>> alternatives) {
    this.alternatives = alternatives;
  }

  /** Matches everything. */
  public static Filter always() {
    return ALWAYS;
  }

  /**
   * Parses one filter string.
   *
   * @throws dev.jctr.api.errors.InvalidArgumentException naming the filter and the position of
   *     the problem
   */
  public static Filter parse(String filter) {
    if (filter == null || filter.isBlank()) {
      return ALWAYS;
    }
    return new Filter(List.of(new FilterParser(filter).parse()));
  }

  /** Parses several filter strings, any of which may match; none (or all empty) matches all. */
  public static Filter parseAny(List<String> filters) {
    List<List<Selector>> alternatives = new ArrayList<>();
    for (String filter : filters) {
      if (filter == null || filter.isBlank()) {
        return ALWAYS; // an empty alternative matches everything
      }
      alternatives.add(new FilterParser(filter).parse());
    }
    return alternatives.isEmpty() ? ALWAYS : new Filter(List.copyOf(alternatives));
  }

  /** Whether this filter matches everything, so that callers can skip building fields. */
  public boolean matchesAll() {
    return alternatives.isEmpty();
  }

  public boolean matches(Fields fields) {
    if (alternatives.isEmpty()) {
      return true;
    }
    for (List<Selector> conjunction : alternatives) {
      if (conjunction.stream().allMatch(s -> s.matches(fields))) {
        return true;
      }
    }
    return false;
  }
}
