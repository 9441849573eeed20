package dev.jctr.api.plugin;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * A plugin's identity, in containerd's terms. Put it on a {@code @Component} and the component
 * carries the service properties {@code jctr.plugin.type}, {@code jctr.plugin.id} and
 * {@code jctr.plugin.requires}; introspection ({@code plugins ls}) lists every component that
 * has them, with the status SCR reports for it.
 *
 * <p>By convention the component's name is the plugin URI {@code <type>.<id>}, which is also its
 * configuration PID: the config.toml section {@code [plugins."<type>.<id>"]} configures it.
 */
@ComponentPropertyType
public @interface Plugin {

  String PREFIX_ = "jctr.plugin.";

  /** The plugin type, one of {@link PluginTypes}. */
  String type();

  /** Unique within the type, for example {@code overlayfs}. */
  String id();

  /** The plugin types this one needs, as containerd lists them. */
  String[] requires() default {};
}
