package dev.jctr.kernel.introspection;

import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.api.plugin.SkipPluginException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/**
 * Reads the plugin table from SCR's runtime view: every enabled component that carries
 * {@code jctr.plugin.type} and {@code jctr.plugin.id}, in bundle order (the order they were
 * loaded in), with its status. Disabled components are left out, as containerd leaves out
 * disabled plugins.
 */
final class PluginTable {

  private PluginTable() {}

  static List<PluginRecord> read(ServiceComponentRuntime scr) {
    List<ComponentDescriptionDTO> descriptions = new ArrayList<>(scr.getComponentDescriptionDTOs());
    descriptions.sort(Comparator.comparingLong((ComponentDescriptionDTO d) -> d.bundle.id));
    List<PluginRecord> plugins = new ArrayList<>();
    for (ComponentDescriptionDTO description : descriptions) {
      Object type = description.properties.get(PluginTypes.TYPE_PROPERTY);
      Object id = description.properties.get(PluginTypes.ID_PROPERTY);
      if (type == null || id == null || !scr.isComponentEnabled(description)) {
        continue;
      }
      if (id.toString().isEmpty()) {
        // a plugin per configuration (proxy plugins): each names itself
        for (ComponentConfigurationDTO configuration
            : scr.getComponentConfigurationDTOs(description)) {
          Object configuredId = configuration.properties.get(PluginTypes.ID_PROPERTY);
          if (configuredId != null && !configuredId.toString().isEmpty()) {
            plugins.add(new PluginRecord(type.toString(), configuredId.toString(),
                requires(description.properties), status(List.of(configuration))));
          }
        }
        continue;
      }
      plugins.add(new PluginRecord(type.toString(), id.toString(),
          requires(description.properties), status(scr.getComponentConfigurationDTOs(description))));
    }
    return plugins;
  }

  private static List<String> requires(Map<String, Object> properties) {
    return switch (properties.get(PluginTypes.REQUIRES_PROPERTY)) {
      case null -> List.of();
      case String[] values -> Arrays.asList(values);
      case String value -> List.of(value);
      case Collection<?> values -> values.stream().map(String::valueOf).toList();
      default -> List.of();
    };
  }

  /** Ok if any configuration is satisfied or active; otherwise what keeps it from running. */
  private static Optional<String> status(Collection<ComponentConfigurationDTO> configurations) {
    if (configurations.isEmpty()) {
      return Optional.of("no configuration: the plugin requires a config section");
    }
    for (ComponentConfigurationDTO configuration : configurations) {
      if (configuration.state == ComponentConfigurationDTO.ACTIVE
          || configuration.state == ComponentConfigurationDTO.SATISFIED) {
        return Optional.empty();
      }
    }
    ComponentConfigurationDTO first = configurations.iterator().next();
    return Optional.of(switch (first.state) {
      case ComponentConfigurationDTO.FAILED_ACTIVATION -> firstLine(first.failure);
      case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> "missing dependencies: "
          + Arrays.stream(first.unsatisfiedReferences)
              .map(PluginTable::describe)
              .collect(Collectors.joining(", "));
      case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION -> "missing configuration";
      default -> "not ready (state " + first.state + ")";
    });
  }

  private static String describe(UnsatisfiedReferenceDTO reference) {
    return reference.name + (reference.target == null ? "" : " " + reference.target);
  }

  /**
   * SCR records the activation failure with its stack trace. The reason is the line that says
   * the plugin skips itself, else the root cause (a constructor's exception arrives wrapped in
   * reflection's), with the exception's class name dropped.
   */
  static String firstLine(String failure) {
    if (failure == null || failure.isBlank()) {
      return "activation failed";
    }
    List<String> causes = new ArrayList<>();
    for (String line : failure.lines().toList()) {
      String stripped = line.strip();
      if (causes.isEmpty()) {
        causes.add(stripped);
      } else if (stripped.startsWith("Caused by: ")) {
        causes.add(stripped.substring("Caused by: ".length()));
      }
    }
    String line = causes.stream().filter(c -> c.contains(SkipPluginException.MARKER))
        .findFirst().orElse(causes.get(causes.size() - 1));
    // "java.lang.RuntimeException: overlay unsupported: skip plugin" -> keep the message part
    int colon = line.indexOf(": ");
    if (colon > 0 && line.substring(0, colon).matches("[\\w.$]+(Exception|Error)")) {
      return line.substring(colon + 2);
    }
    return line;
  }
}
