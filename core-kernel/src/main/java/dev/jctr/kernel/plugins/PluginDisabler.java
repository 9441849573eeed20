package dev.jctr.kernel.plugins;

import dev.jctr.api.plugin.PluginTypes;
import dev.jctr.kernel.env.KernelProperties;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * Applies {@code disabled_plugins}: every component whose plugin URI ({@code <type>.<id>}) is
 * listed is disabled as soon as its bundle starts, including bundles dropped into the bundle
 * folder later. A disabled plugin is absent from {@code plugins ls}, as in containerd.
 */
@Component(immediate = true)
public final class PluginDisabler implements SynchronousBundleListener {

  private static final Logger LOG = System.getLogger(PluginDisabler.class.getName());

  private final ServiceComponentRuntime scr;
  private final BundleContext context;
  private final Set<String> disabled;

  @Activate
  public PluginDisabler(@Reference ServiceComponentRuntime scr, BundleContext context) {
    this.scr = scr;
    this.context = context;
    String listed = context.getProperty(KernelProperties.DISABLED_PLUGINS);
    this.disabled = listed == null ? Set.of()
        : Arrays.stream(listed.split(",")).map(String::strip).filter(s -> !s.isEmpty())
            .collect(Collectors.toUnmodifiableSet());
    if (!disabled.isEmpty()) {
      context.addBundleListener(this);
      for (Bundle bundle : context.getBundles()) {
        disableIn(bundle);
      }
    }
  }

  @Deactivate
  void deactivate() {
    context.removeBundleListener(this);
  }

  @Override
  public void bundleChanged(BundleEvent event) {
    if (event.getType() == BundleEvent.STARTED) {
      disableIn(event.getBundle());
    }
  }

  private void disableIn(Bundle bundle) {
    if (bundle.getState() != Bundle.ACTIVE && bundle.getState() != Bundle.STARTING) {
      return;
    }
    for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs(bundle)) {
      Object type = description.properties.get(PluginTypes.TYPE_PROPERTY);
      Object id = description.properties.get(PluginTypes.ID_PROPERTY);
      if (type != null && id != null
          && disabled.contains(PluginTypes.uri(type.toString(), id.toString()))
          && scr.isComponentEnabled(description)) {
        scr.disableComponent(description);
        LOG.log(Level.INFO, "plugin {0} disabled by disabled_plugins",
            PluginTypes.uri(type.toString(), id.toString()));
      }
    }
  }
}
