package dev.jctr.content.local;

import dev.jctr.api.content.Digests;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Installs libcrypto's SHA-256 as the daemon's ({@link Digests#useSha256}) once it is loaded,
 * off the start-up path, and only after it hashes sample data exactly as the JDK does. Without
 * libcrypto the JDK's stays, which is correct, only slower.
 */
@Component(immediate = true)
public final class FastDigests {

  private static final Logger LOG = System.getLogger(FastDigests.class.getName());

  private volatile boolean active = true;

  @Activate
  public FastDigests() {
    Thread.ofPlatform().name("jctr-native-sha256").daemon().start(this::install);
  }

  private void install() {
    try {
      NativeSha256.load();
      if (!agrees()) {
        LOG.log(Level.WARNING, "libcrypto SHA-256 disagrees with the JDK one; keeping the JDK one");
        return;
      }
      if (active) {
        Digests.useSha256(NativeSha256::new);
        LOG.log(Level.DEBUG, "SHA-256 by libcrypto");
      }
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.INFO, "libcrypto not usable for SHA-256 ({0}); the JDK one is used",
          e.getMessage());
    }
  }

  /** Sizes across the 64 KiB piece boundary, clones and resets, against the JDK. */
  static boolean agrees() {
    Random random = new Random(7);
    for (int size : new int[] {0, 1, 55, 64, 65535, 65536, 65537, 300_000}) {
      byte[] data = new byte[size];
      random.nextBytes(data);
      MessageDigest ours = new NativeSha256();
      MessageDigest jdk = Digests.jdkSha256();
      ours.update(data, 0, size / 2);
      jdk.update(data, 0, size / 2);
      MessageDigest copy;
      try {
        copy = (MessageDigest) ours.clone();
      } catch (CloneNotSupportedException e) {
        return false;
      }
      ours.update(data, size / 2, size - size / 2);
      copy.update(data, size / 2, size - size / 2);
      jdk.update(data, size / 2, size - size / 2);
      byte[] expected = jdk.digest();
      if (!Arrays.equals(expected, ours.digest()) || !Arrays.equals(expected, copy.digest())) {
        return false;
      }
      ours.update(data); // after digest() it starts over
      if (!Arrays.equals(Digests.jdkSha256().digest(data), ours.digest())) {
        return false;
      }
    }
    return true;
  }

  @Deactivate
  void deactivate() {
    active = false;
    Digests.useSha256(null);
  }
}
