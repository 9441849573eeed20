package dev.jctr.kernel.introspection;

import java.util.List;
import java.util.Optional;

/**
 * One row of {@code plugins ls}: a component that declares a plugin identity, with the status
 * SCR reports for it.
 *
 * @param initError empty when the plugin is ok; otherwise why it is not (containing
 *     "skip plugin" when the plugin chose not to run on this host)
 */
record PluginRecord(String type, String id, List<String> requires, Optional<String> initError) {

  PluginRecord {
    requires = List.copyOf(requires);
  }
}
