package dev.jctr.kernel.plugins;

import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.kernel.config.ConfigException;
import dev.jctr.kernel.config.ConfigFile;
import dev.jctr.kernel.config.DaemonConfig;
import dev.jctr.kernel.config.ProxyPlugin;
import dev.jctr.kernel.env.KernelProperties;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * Hands each {@code [plugins."<type>.<id>"]} section of config.toml to ConfigAdmin under the PID
 * {@code <type>.<id>} (which is the plugin component's name), and keeps doing so while the file
 * changes: a changed section reconfigures its plugin, a removed one returns it to its defaults.
 * Top-level settings (root, state, addresses) take effect only on restart; a change to them is
 * logged.
 */
@Component(immediate = true)
public final class PluginConfigurations {

  private static final Logger LOG = System.getLogger(PluginConfigurations.class.getName());
  /** Marks the configurations this component owns, so it never deletes anyone else's. */
  static final String SOURCE_PROPERTY = "jctr.config.source";
  private static final long POLL_SECONDS = 2;
  /** The factory PID of proxy snapshotters, one configuration per proxy. */
  static final String SNAPSHOT_PROXY_FACTORY = "io.containerd.snapshotter.v1.proxy";

  private final ConfigurationAdmin configAdmin;
  private final Path file;
  private final ScheduledExecutorService poller;
  private FileTime lastModified;
  private DaemonConfig lastApplied;

  @Activate
  public PluginConfigurations(@Reference ConfigurationAdmin configAdmin, BundleContext context) {
    this.configAdmin = configAdmin;
    String path = context.getProperty(KernelProperties.CONFIG_FILE);
    this.file = path == null || path.isBlank() ? null : Path.of(path);
    this.poller = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("jctrd-config-watch").factory());
    if (file != null) {
      reloadIfChanged();
      poller.scheduleWithFixedDelay(this::reloadIfChanged, POLL_SECONDS, POLL_SECONDS,
          TimeUnit.SECONDS);
    }
  }

  @Deactivate
  void deactivate() {
    poller.shutdownNow();
  }

  private synchronized void reloadIfChanged() {
    try {
      FileTime modified = Files.getLastModifiedTime(file);
      if (modified.equals(lastModified)) {
        return;
      }
      lastModified = modified;
      List<String> warnings = new ArrayList<>();
      DaemonConfig config = ConfigFile.read(file, warnings);
      warnings.forEach(w -> LOG.log(Level.WARNING, w));
      if (lastApplied != null && topLevelChanged(lastApplied, config)) {
        LOG.log(Level.WARNING, "{0}: root, state, addresses or disabled_plugins changed;"
            + " they take effect when jctrd restarts", file);
      }
      apply(config.plugins());
      applyProxies(config.proxyPlugins());
      lastApplied = config;
    } catch (ConfigException e) {
      LOG.log(Level.ERROR, "config not reloaded: " + e.getMessage());
    } catch (IOException | InvalidSyntaxException | RuntimeException e) {
      LOG.log(Level.ERROR, "config not reloaded from " + file + ": " + e.getMessage(), e);
    }
  }

  private void apply(Map<String, Map<String, Object>> sections)
      throws IOException, InvalidSyntaxException {
    for (var section : sections.entrySet()) {
      Configuration configuration = configAdmin.getConfiguration(section.getKey(), "?");
      Hashtable<String, Object> properties = new Hashtable<>(section.getValue());
      properties.put(SOURCE_PROPERTY, file.toString());
      if (!sameProperties(configuration.getProperties(), properties)) {
        configuration.update(properties);
        LOG.log(Level.INFO, "configured plugin {0} from {1}", section.getKey(), file);
      }
    }
    Configuration[] owned = configAdmin.listConfigurations("(" + SOURCE_PROPERTY + "=*)");
    for (Configuration configuration : owned == null ? new Configuration[0] : owned) {
      if (configuration.getFactoryPid() == null && !sections.containsKey(configuration.getPid())) {
        configuration.delete();
        LOG.log(Level.INFO, "plugin {0} returned to its defaults (section removed from {1})",
            configuration.getPid(), file);
      }
    }
  }

  /**
   * Each {@code [proxy_plugins.<name>]} of type snapshot becomes a named factory configuration
   * of {@value #SNAPSHOT_PROXY_FACTORY}; the proxy bundle's component turns each into a
   * {@code Snapshotter} named {@code <name>}. A section removed removes its snapshotter.
   */
  private void applyProxies(Map<String, ProxyPlugin> proxies)
      throws IOException, InvalidSyntaxException {
    for (ProxyPlugin proxy : proxies.values()) {
      Configuration configuration =
          configAdmin.getFactoryConfiguration(SNAPSHOT_PROXY_FACTORY, proxy.name(), "?");
      Hashtable<String, Object> properties = new Hashtable<>();
      properties.put("name", proxy.name());
      properties.put("address", proxy.address().toString());
      properties.put(PluginTypes.ID_PROPERTY, proxy.name());
      properties.put(SOURCE_PROPERTY, file.toString());
      if (!sameProperties(configuration.getProperties(), properties)) {
        configuration.update(properties);
        LOG.log(Level.INFO, "proxy snapshotter {0} at {1}", proxy.name(), proxy.address());
      }
    }
    Configuration[] owned = configAdmin.listConfigurations("(&(" + SOURCE_PROPERTY
        + "=*)(service.factoryPid=" + SNAPSHOT_PROXY_FACTORY + "))");
    for (Configuration configuration : owned == null ? new Configuration[0] : owned) {
      Object name = configuration.getProperties().get("name");
      if (name == null || !proxies.containsKey(name.toString())) {
        configuration.delete();
        LOG.log(Level.INFO, "proxy snapshotter {0} removed (section gone from {1})", name, file);
      }
    }
  }

  private static boolean sameProperties(Dictionary<String, Object> current,
      Hashtable<String, Object> wanted) {
    if (current == null) {
      return false;
    }
    for (var key : wanted.keySet()) {
      if (!Objects.deepEquals(current.get(key), wanted.get(key))) {
        return false;
      }
    }
    // ConfigAdmin adds service.pid and friends; only our keys count.
    var keys = current.keys();
    while (keys.hasMoreElements()) {
      String key = keys.nextElement();
      if (!key.startsWith("service.") && !wanted.containsKey(key)) {
        return false;
      }
    }
    return true;
  }

  private static boolean topLevelChanged(DaemonConfig before, DaemonConfig after) {
    return !before.root().equals(after.root())
        || !before.state().equals(after.state())
        || !before.grpcAddress().equals(after.grpcAddress())
        || !before.ttrpcAddress().equals(after.ttrpcAddress())
        || !before.disabledPlugins().equals(after.disabledPlugins());
  }
}
