package dev.jctr.runtime.host;

import dev.jctr.api.errors.FailedPreconditionException;
import dev.jctr.api.host.LinuxHost;
import dev.jctr.runtime.linux.LinuxCalls;
import dev.jctr.runtime.linux.NativeSpawn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/** {@link LinuxHost} through libc (jnr-ffi), loaded once when the daemon starts. */
@Component(service = LinuxHost.class)
public final class NativeLinuxHost implements LinuxHost {

  @Activate
  public NativeLinuxHost() {
    // binding libc takes a few hundred milliseconds once: at start, not in a pod's RunPodSandbox
    Thread.ofVirtual().name("libc-load").start(LinuxCalls::load);
  }

  @Override
  public void mount(String source, Path target, String type, List<String> options) {
    LinuxCalls.mount(source, target.toString(), type, options);
  }

  @Override
  public boolean unmount(Path target) {
    return LinuxCalls.unmount(target.toString(), false);
  }

  @Override
  public void makeFifo(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new FailedPreconditionException("mkfifo " + path + ": " + e.getMessage());
    }
    LinuxCalls.makeFifo(path.toString(), 0600);
  }

  @Override
  public void pinNewNetworkNamespace(Path pin) {
    try {
      Files.createFile(pin);
    } catch (IOException e) {
      throw new FailedPreconditionException("network namespace pin " + pin + ": "
          + e.getMessage());
    }
    try {
      LinuxCalls.pinNewNetworkNamespace(pin.toString());
    } catch (RuntimeException e) {
      try {
        Files.deleteIfExists(pin);
      } catch (IOException ignored) {
        // the error that matters is the one thrown
      }
      throw e;
    }
  }

  @Override
  public boolean isNamespacePinned(Path path) {
    if (!Files.exists(path)) {
      return false;
    }
    return LinuxCalls.statfs(path.toString()).type() == LinuxCalls.NSFS_MAGIC;
  }

  @Override
  public int run(List<String> argv, Map<String, String> env, Path stdin, Path stdout,
      Path stderr, Duration timeout) {
    return NativeSpawn.run(argv, env, new NativeSpawn.Stdio(stdin, stdout, stderr, false),
        Math.max(1, timeout.toSeconds()));
  }
}
