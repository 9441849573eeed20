package dev.jctr.metadata.plugin;

import dev.jctr.api.errors.InvalidArgumentException;
import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.snapshots.Snapshotter;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * The snapshotters registered now, by their {@code name} property: a bundle that arrives adds
 * one, a bundle that leaves takes its one away, with no restart. One registry for the bundle's
 * services, the pull and the collector.
 */
@Component(service = Snapshotters.class)
public final class Snapshotters {

  private static final Logger LOG = System.getLogger(Snapshotters.class.getName());

  private final Map<String, Snapshotter> byName = new ConcurrentHashMap<>();

  public Snapshotters() {}

  /** For tests: fixed snapshotters. */
  public Snapshotters(Map<String, Snapshotter> snapshotters) {
    byName.putAll(snapshotters);
  }

  @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
      unbind = "remove")
  void add(Snapshotter snapshotter, Map<String, Object> properties) {
    Object name = properties.get(Snapshotter.NAME_PROPERTY);
    if (name == null) {
      LOG.log(Level.WARNING, "a Snapshotter service without a \"name\" property is ignored");
      return;
    }
    byName.put(name.toString(), snapshotter);
    LOG.log(Level.INFO, "snapshotter {0} available", name);
  }

  void remove(Snapshotter snapshotter, Map<String, Object> properties) {
    Object name = properties.get(Snapshotter.NAME_PROPERTY);
    if (name != null && byName.remove(name.toString(), snapshotter)) {
      LOG.log(Level.INFO, "snapshotter {0} gone", name);
    }
  }

  /** The snapshotter called {@code name}, or {@code fallback}'s when there is none ("": none). */
  public Snapshotter require(String name, String fallback) {
    if (name == null || name.isEmpty()) {
      throw new InvalidArgumentException("snapshotter must be named (for example overlayfs)");
    }
    Snapshotter snapshotter = byName.get(name);
    if (snapshotter == null && !fallback.isEmpty()) {
      snapshotter = byName.get(fallback);
    }
    if (snapshotter == null) {
      throw new NotFoundException("snapshotter \"" + name + "\" (available: "
          + String.join(", ", new TreeSet<>(byName.keySet())) + ")");
    }
    return snapshotter;
  }

  /** A snapshot of the registry as it is now. */
  public Map<String, Snapshotter> all() {
    return Map.copyOf(byName);
  }
}
