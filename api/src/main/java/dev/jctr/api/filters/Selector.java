package dev.jctr.api.filters;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** One {@code fieldpath [op value]} term of a filter. */
sealed interface Selector {

  boolean matches(Fields fields);

  /** A bare field path: the field exists and is not empty. */
  record Present(List<String> path) implements Selector {
    @Override
    public boolean matches(Fields fields) {
      return fields.field(path).filter(v -> !v.isEmpty()).isPresent();
    }
  }

  /** {@code ==}; a missing field never equals. */
  record Equals(List<String> path, String value) implements Selector {
    @Override
    public boolean matches(Fields fields) {
      return fields.field(path).map(value::equals).orElse(false);
    }
  }

  /** {@code !=}; a missing field is not equal to anything, as in containerd. */
  record NotEquals(List<String> path, String value) implements Selector {
    @Override
    public boolean matches(Fields fields) {
      return fields.field(path).map(v -> !v.equals(value)).orElse(true);
    }
  }

  /** {@code ~=}: the pattern matches somewhere in the field. */
  record Matches(List<String> path, Pattern pattern) implements Selector {
    @Override
    public boolean matches(Fields fields) {
      Optional<String> value = fields.field(path);
      return value.isPresent() && pattern.matcher(value.get()).find();
    }
  }
}
