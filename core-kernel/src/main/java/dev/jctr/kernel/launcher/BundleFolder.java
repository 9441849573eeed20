package dev.jctr.kernel.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * Keeps the framework's bundles equal to the jars in one folder: installs and starts new jars,
 * updates replaced ones, uninstalls removed ones, then refreshes the wiring of what changed.
 * A jar must look the same on two consecutive scans before it is acted on, so a copy still in
 * progress is never installed half-written.
 */
final class BundleFolder {

  private static final Logger LOG = System.getLogger(BundleFolder.class.getName());

  private final Path folder;
  private final BundleContext context;
  private final Map<Path, Bundle> installed = new HashMap<>();
  private final Map<Path, Stamp> installedStamps = new HashMap<>();
  private Map<Path, Stamp> previousScan = Map.of();

  BundleFolder(Path folder, BundleContext context) {
    this.folder = folder;
    this.context = context;
  }

  /** Installs every jar, then starts them all, so that resolution sees the whole set at once. */
  void installAll() throws IOException {
    Map<Path, Stamp> scan = scan();
    List<Bundle> toStart = new ArrayList<>();
    for (var entry : scan.entrySet()) {
      Bundle bundle = install(entry.getKey(), entry.getValue());
      if (bundle != null) {
        toStart.add(bundle);
      }
    }
    for (Bundle bundle : toStart) {
      start(bundle);
    }
    previousScan = scan;
  }

  /** One reconciliation pass; called periodically by the launcher's watch thread. */
  void reconcile() throws IOException {
    Map<Path, Stamp> scan = scan();
    List<Bundle> changed = new ArrayList<>();
    List<Bundle> toStart = new ArrayList<>();
    for (var entry : scan.entrySet()) {
      Path jar = entry.getKey();
      Stamp stamp = entry.getValue();
      if (!stamp.equals(previousScan.get(jar)) || stamp.equals(installedStamps.get(jar))) {
        continue; // still being written, or unchanged since installed
      }
      Bundle existing = installed.get(jar);
      if (existing == null) {
        Bundle bundle = install(jar, stamp);
        if (bundle != null) {
          toStart.add(bundle);
          changed.add(bundle);
        }
      } else if (update(existing, jar, stamp)) {
        changed.add(existing);
      }
    }
    for (Path jar : List.copyOf(installed.keySet())) {
      if (!scan.containsKey(jar)) {
        Bundle bundle = installed.remove(jar);
        installedStamps.remove(jar);
        uninstall(bundle, jar);
        changed.add(bundle);
      }
    }
    previousScan = scan;
    if (!changed.isEmpty()) {
      context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).adapt(FrameworkWiring.class)
          .refreshBundles(changed, event -> {
            for (Bundle bundle : toStart) {
              start(bundle);
            }
          });
    }
  }

  private Map<Path, Stamp> scan() throws IOException {
    Map<Path, Stamp> jars = new TreeMap<>();
    if (!Files.isDirectory(folder)) {
      return jars;
    }
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(folder, "*.jar")) {
      for (Path jar : stream) {
        BasicFileAttributes attributes = Files.readAttributes(jar, BasicFileAttributes.class);
        if (attributes.isRegularFile()) {
          jars.put(jar, new Stamp(attributes.size(), attributes.lastModifiedTime().toMillis()));
        }
      }
    }
    return jars;
  }

  private Bundle install(Path jar, Stamp stamp) {
    try (InputStream in = Files.newInputStream(jar)) {
      Bundle bundle = context.installBundle(jar.toUri().toString(), in);
      installed.put(jar, bundle);
      installedStamps.put(jar, stamp);
      LOG.log(Level.INFO, "installed bundle {0} {1} from {2}", bundle.getSymbolicName(),
          bundle.getVersion(), jar.getFileName());
      return isFragment(bundle) ? null : bundle;
    } catch (IOException | BundleException e) {
      LOG.log(Level.ERROR, "cannot install " + jar + ": " + e.getMessage(), e);
      return null;
    }
  }

  private boolean update(Bundle bundle, Path jar, Stamp stamp) {
    try (InputStream in = Files.newInputStream(jar)) {
      bundle.update(in);
      installedStamps.put(jar, stamp);
      LOG.log(Level.INFO, "updated bundle {0} to {1} from {2}", bundle.getSymbolicName(),
          bundle.getVersion(), jar.getFileName());
      return true;
    } catch (IOException | BundleException e) {
      LOG.log(Level.ERROR, "cannot update " + jar + ": " + e.getMessage(), e);
      installedStamps.put(jar, stamp); // do not retry the same broken file every scan
      return false;
    }
  }

  private void uninstall(Bundle bundle, Path jar) {
    try {
      bundle.uninstall();
      LOG.log(Level.INFO, "uninstalled bundle {0} ({1} was removed)", bundle.getSymbolicName(),
          jar.getFileName());
    } catch (BundleException | IllegalStateException e) {
      LOG.log(Level.ERROR, "cannot uninstall " + bundle.getSymbolicName() + ": " + e.getMessage(),
          e);
    }
  }

  private void start(Bundle bundle) {
    if (bundle.getState() == Bundle.UNINSTALLED) {
      return;
    }
    try {
      bundle.start();
    } catch (BundleException | IllegalStateException e) {
      LOG.log(Level.ERROR, "cannot start bundle " + bundle.getSymbolicName() + ": "
          + e.getMessage());
    }
  }

  private static boolean isFragment(Bundle bundle) {
    return bundle.getHeaders().get(Constants.FRAGMENT_HOST) != null;
  }

  private record Stamp(long size, long modifiedMillis) {}
}
