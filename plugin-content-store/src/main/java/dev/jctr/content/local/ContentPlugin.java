package dev.jctr.content.local;

import dev.jctr.api.content.ContentStore;
import dev.jctr.api.daemon.DaemonEnvironment;
import dev.jctr.api.plugin.Plugin;
import dev.jctr.api.plugin.PluginTypes;
import java.io.IOException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * containerd's {@code io.containerd.content.v1.content}: the local content store under
 * {@code <root>/io.containerd.content.v1.content/}.
 */
@Component(service = ContentStore.class, name = "io.containerd.content.v1.content")
@Plugin(type = PluginTypes.CONTENT, id = "content")
public final class ContentPlugin extends LocalContentStore {

  @Activate
  public ContentPlugin(@Reference DaemonEnvironment environment) throws IOException {
    super(environment.pluginRoot(PluginTypes.CONTENT, "content"));
  }
}
