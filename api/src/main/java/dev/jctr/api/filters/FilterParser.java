package dev.jctr.api.filters;

import dev.jctr.api.errors.InvalidArgumentException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Recursive-descent parser for one filter string; see {@link Filter} for the grammar. */
final class FilterParser {

  private final String input;
  private int position;

  FilterParser(String input) {
    this.input = input;
  }

  List<Selector> parse() {
    List<Selector> selectors = new ArrayList<>();
    do {
      selectors.add(selector());
      skipSpaces();
    } while (consume(','));
    if (!atEnd()) {
      throw error("unexpected '" + input.charAt(position) + "'");
    }
    return List.copyOf(selectors);
  }

  private Selector selector() {
    List<String> path = fieldPath();
    skipSpaces();
    if (atEnd() || peek() == ',') {
      return new Selector.Present(path);
    }
    String operator = operator();
    skipSpaces();
    return switch (operator) {
      case "==" -> new Selector.Equals(path, value(false));
      case "!=" -> new Selector.NotEquals(path, value(false));
      default -> new Selector.Matches(path, regex());
    };
  }

  private List<String> fieldPath() {
    List<String> path = new ArrayList<>();
    do {
      skipSpaces();
      path.add(component());
    } while (consume('.'));
    return path;
  }

  private String component() {
    if (atEnd()) {
      throw error("expected field name");
    }
    if (peek() == '"') {
      return quoted();
    }
    int start = position;
    if (!isIdentifierStart(peek())) {
      throw error("expected field name");
    }
    while (!atEnd() && isIdentifierPart(peek())) {
      position++;
    }
    return input.substring(start, position);
  }

  private String operator() {
    if (position + 1 < input.length()) {
      String two = input.substring(position, position + 2);
      if (two.equals("==") || two.equals("!=") || two.equals("~=")) {
        position += 2;
        return two;
      }
    }
    throw error("expected operator ==, != or ~=");
  }

  private String value(boolean forRegex) {
    if (atEnd() || peek() == ',') {
      throw error("expected value");
    }
    if (peek() == '"') {
      return quoted();
    }
    int start = position;
    while (!atEnd() && peek() != ',') {
      char c = peek();
      if (c == '"' || (!forRegex && Character.isWhitespace(c) && !onlySpacesToSeparator())) {
        throw error("unexpected '" + c + "' in value; quote values with spaces or quotes");
      }
      position++;
    }
    return input.substring(start, position).strip();
  }

  private Pattern regex() {
    int start = position;
    String expression = slashDelimited().orElseGet(() -> value(true));
    try {
      return Pattern.compile(expression);
    } catch (PatternSyntaxException e) {
      position = start;
      throw error("invalid regular expression \"" + expression + "\": " + e.getDescription());
    }
  }

  /** {@code /.../} up to the next unescaped slash, when that slash ends the value. */
  private java.util.Optional<String> slashDelimited() {
    if (atEnd() || peek() != '/') {
      return java.util.Optional.empty();
    }
    StringBuilder expression = new StringBuilder();
    for (int i = position + 1; i < input.length(); i++) {
      char c = input.charAt(i);
      if (c == '\\' && i + 1 < input.length() && input.charAt(i + 1) == '/') {
        expression.append('/');
        i++;
      } else if (c == '/') {
        int after = i + 1;
        while (after < input.length() && Character.isWhitespace(input.charAt(after))) {
          after++;
        }
        if (after == input.length() || input.charAt(after) == ',') {
          position = i + 1;
          return java.util.Optional.of(expression.toString());
        }
        expression.append(c);
      } else {
        expression.append(c);
      }
    }
    return java.util.Optional.empty();
  }

  private String quoted() {
    int start = position;
    position++; // opening quote
    StringBuilder out = new StringBuilder();
    while (!atEnd()) {
      char c = input.charAt(position++);
      if (c == '"') {
        return out.toString();
      }
      if (c != '\\') {
        out.append(c);
        continue;
      }
      if (atEnd()) {
        break;
      }
      char escaped = input.charAt(position++);
      out.append(switch (escaped) {
        case 'n' -> '\n';
        case 't' -> '\t';
        case 'r' -> '\r';
        case '\\', '"', '/' -> escaped;
        default -> {
          position -= 2;
          throw error("unknown escape \\" + escaped);
        }
      });
    }
    position = start;
    throw error("unterminated quoted string");
  }

  private boolean onlySpacesToSeparator() {
    int i = position;
    while (i < input.length() && Character.isWhitespace(input.charAt(i))) {
      i++;
    }
    return i == input.length() || input.charAt(i) == ',';
  }

  private void skipSpaces() {
    while (!atEnd() && Character.isWhitespace(peek())) {
      position++;
    }
  }

  private boolean consume(char c) {
    if (!atEnd() && peek() == c) {
      position++;
      return true;
    }
    return false;
  }

  private boolean atEnd() {
    return position >= input.length();
  }

  private char peek() {
    return input.charAt(position);
  }

  private static boolean isIdentifierStart(char c) {
    return Character.isLetter(c) || c == '_';
  }

  private static boolean isIdentifierPart(char c) {
    return Character.isLetterOrDigit(c) || c == '_';
  }

  private InvalidArgumentException error(String problem) {
    return new InvalidArgumentException(
        "filter \"" + input + "\": " + problem + " at position " + position);
  }
}
