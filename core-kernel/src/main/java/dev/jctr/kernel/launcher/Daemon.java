package dev.jctr.kernel.launcher;

import dev.jctr.kernel.config.DaemonConfig;
import dev.jctr.kernel.env.KernelProperties;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.felix.framework.Felix;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;

/**
 * One daemon run: claim the socket, start Felix with the kernel bundle and the bundle folder,
 * watch the folder, and stop everything cleanly on SIGTERM/SIGINT.
 */
final class Daemon {

  private static final Logger LOG = System.getLogger(Daemon.class.getName());
  private static final long WATCH_INTERVAL_MILLIS = 1000;

  private final DaemonConfig config;
  private final Path configFile;
  private final Path bundleFolder;
  private final CountDownLatch stopped = new CountDownLatch(1);

  Daemon(DaemonConfig config, Path configFile, Path bundleFolder) {
    this.config = config;
    this.configFile = configFile;
    this.bundleFolder = bundleFolder;
  }

  void run() throws IOException {
    createPrivateDirectory(config.root());
    createPrivateDirectory(config.state());
    try (SocketClaim claim = SocketClaim.claim(config.grpcAddress())) {
      Framework framework = startFramework();
      Thread hook = new Thread(() -> stop(framework), "jctrd-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      Bundle kernel = installKernel(framework);
      BundleFolder folder = new BundleFolder(bundleFolder, framework.getBundleContext());
      folder.installAll();
      kernel.start();
      LOG.log(Level.INFO, "jctrd {0} started: root={1} state={2} address={3} bundles={4}",
          Distribution.version(), config.root(), config.state(), config.grpcAddress(),
          bundleFolder);
      watch(folder, framework);
      awaitStop(framework);
    } catch (BundleException e) {
      throw new IOException("cannot start the OSGi framework: " + e.getMessage(), e);
    }
  }

  private Framework startFramework() throws BundleException, IOException {
    Map<String, Object> properties = new HashMap<>();
    properties.put(Constants.FRAMEWORK_STORAGE,
        config.state().resolve("bundle-cache").toString());
    properties.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
    // netty and protobuf reach for sun.misc.Unsafe; let every bundle see the JDK's internals.
    properties.put(Constants.FRAMEWORK_BOOTDELEGATION, "sun.*,com.sun.*,jdk.internal.*");
    properties.put("felix.log.level", "1");
    properties.putAll(KernelProperties.of(config, configFile));
    Felix felix = new Felix(properties);
    felix.start();
    return felix;
  }

  /**
   * The launcher's own jar is the kernel bundle. It is installed first and never watched; it is
   * started after the bundle folder is installed, since it needs the libraries found there.
   */
  private static Bundle installKernel(Framework framework) throws IOException, BundleException {
    Path jar = Distribution.kernelJar();
    try (InputStream in = Files.newInputStream(jar)) {
      return framework.getBundleContext().installBundle(jar.toUri().toString(), in);
    }
  }

  private void watch(BundleFolder folder, Framework framework) {
    Thread.ofPlatform().daemon().name("jctrd-bundle-watch").start(() -> {
      while (stopped.getCount() > 0 && framework.getState() == Bundle.ACTIVE) {
        try {
          Thread.sleep(WATCH_INTERVAL_MILLIS);
          folder.reconcile();
        } catch (InterruptedException e) {
          return;
        } catch (IOException | RuntimeException e) {
          LOG.log(Level.WARNING, "bundle folder scan failed: " + e.getMessage());
        }
      }
    });
  }

  private void awaitStop(Framework framework) {
    try {
      framework.waitForStop(0);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void stop(Framework framework) {
    try {
      LOG.log(Level.INFO, "jctrd stopping");
      framework.stop();
      framework.waitForStop(15_000);
    } catch (BundleException | InterruptedException e) {
      LOG.log(Level.WARNING, "framework did not stop cleanly: " + e.getMessage());
    } finally {
      stopped.countDown();
    }
  }

  private static void createPrivateDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    }
  }
}
