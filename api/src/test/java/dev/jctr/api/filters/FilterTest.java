package dev.jctr.api.filters;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.InvalidArgumentException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FilterTest {

  private static final Fields CONTAINER = Fields.of(
      Map.of("id", "web-1", "image", "docker.io/library/busybox:latest",
          "topic", "/tasks/exit", "runtime", ""),
      Map.of("io.kubernetes.pod.name", "web", "tier", "front end", "say", "a\"b"));

  @Test
  void equalsMatchesTheExactValue() {
    assertTrue(Filter.parse("id==web-1").matches(CONTAINER));
    assertFalse(Filter.parse("id==web").matches(CONTAINER));
  }

  @Test
  void notEqualsMatchesOtherValuesAndMissingFields() {
    assertTrue(Filter.parse("id!=web-2").matches(CONTAINER));
    assertFalse(Filter.parse("id!=web-1").matches(CONTAINER));
    assertTrue(Filter.parse("labels.missing!=x").matches(CONTAINER));
  }

  @Test
  void regexMatchesAnywhereInTheField() {
    assertTrue(Filter.parse("image~=busybox").matches(CONTAINER));
    assertTrue(Filter.parse("image~=^docker\\.io/").matches(CONTAINER));
    assertFalse(Filter.parse("image~=^busybox").matches(CONTAINER));
  }

  @Test
  void slashDelimitedRegexIsTheExpressionBetweenTheSlashes() {
    assertTrue(Filter.parse("topic~=/tasks/").matches(CONTAINER));
    assertTrue(Filter.parse("topic~=/^\\/tasks\\//").matches(CONTAINER));
    assertFalse(Filter.parse("topic~=/^tasks/").matches(CONTAINER));
  }

  @Test
  void bareValuesKeepSlashesColonsAndDots() {
    assertTrue(Filter.parse("topic==/tasks/exit").matches(CONTAINER));
    assertTrue(Filter.parse("image==docker.io/library/busybox:latest").matches(CONTAINER));
  }

  @Test
  void quotedLabelKeyWithDotsMatchesLabel() {
    assertTrue(Filter.parse("labels.\"io.kubernetes.pod.name\"==web").matches(CONTAINER));
    assertFalse(Filter.parse("labels.\"io.kubernetes.pod.name\"==db").matches(CONTAINER));
  }

  @Test
  void quotedValuesMayHoldSpacesCommasAndEscapedQuotes() {
    assertTrue(Filter.parse("labels.tier==\"front end\"").matches(CONTAINER));
    assertTrue(Filter.parse("labels.say==\"a\\\"b\"").matches(CONTAINER));
    assertTrue(Filter.parse("id==\"web-1\",labels.tier==\"front end\"").matches(CONTAINER));
  }

  @Test
  void commaIsAndSeveralFiltersAreOr() {
    assertTrue(Filter.parse("id==web-1,labels.tier==\"front end\"").matches(CONTAINER));
    assertFalse(Filter.parse("id==web-1,labels.tier==back").matches(CONTAINER));
    assertTrue(Filter.parseAny(List.of("id==nope", "id==web-1")).matches(CONTAINER));
    assertFalse(Filter.parseAny(List.of("id==nope", "id==other")).matches(CONTAINER));
  }

  @Test
  void barePathTestsPresenceOfANonEmptyField() {
    assertTrue(Filter.parse("labels.tier").matches(CONTAINER));
    assertFalse(Filter.parse("labels.absent").matches(CONTAINER));
    assertFalse(Filter.parse("runtime").matches(CONTAINER));
  }

  @Test
  void missingFieldsNeverEqualOrMatch() {
    assertFalse(Filter.parse("snapshotter==overlayfs").matches(CONTAINER));
    assertFalse(Filter.parse("snapshotter~=.*").matches(CONTAINER));
    assertFalse(Filter.parse("a.b.c==x").matches(CONTAINER));
  }

  @Test
  void whitespaceAroundTokensIsIgnored() {
    assertTrue(Filter.parse("  id == web-1 ,  labels.tier == \"front end\"  ").matches(CONTAINER));
  }

  @Test
  void emptyFiltersMatchEverything() {
    assertTrue(Filter.parse("").matches(CONTAINER));
    assertTrue(Filter.parseAny(List.of()).matches(CONTAINER));
    assertTrue(Filter.parseAny(List.of("id==nope", "")).matches(CONTAINER));
    assertTrue(Filter.always().matches(path -> java.util.Optional.empty()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"id==", "labels.\"open==x", "labels.==x", "id=x", "image~=(",
      "id==a,", ",id==a", "id==a b", "9id==a", "id==\"a\"x", "labels.\"k\\q\"==v"})
  void malformedFiltersAreInvalidArgumentsNamingTheFilter(String filter) {
    InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
        () -> Filter.parse(filter));
    assertTrue(e.getMessage().startsWith("filter \"" + filter + "\": "), e.getMessage());
    assertTrue(e.getMessage().contains(" at position "), e.getMessage());
    assertTrue(e.getMessage().endsWith(": invalid argument"), e.getMessage());
  }
}
