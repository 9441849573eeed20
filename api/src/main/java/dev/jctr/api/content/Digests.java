package dev.jctr.api.content;

import dev.jctr.api.errors.InvalidArgumentException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/** OCI digests as this project accepts them: {@code sha256:} and 64 lowercase hex digits. */
public final class Digests {

  private static final Pattern SHA256 = Pattern.compile("sha256:[0-9a-f]{64}");
  private static volatile Supplier<MessageDigest> faster;

  private Digests() {}

  /**
   * Returns {@code digest} when it is a well-formed sha256 digest.
   *
   * @throws InvalidArgumentException naming it otherwise
   */
  public static String validate(String digest) {
    if (digest == null || !SHA256.matcher(digest).matches()) {
      throw new InvalidArgumentException("digest \"" + digest
          + "\": expected sha256: followed by 64 lowercase hex digits");
    }
    return digest;
  }

  /** The hex part of a valid digest. */
  public static String hex(String digest) {
    return validate(digest).substring("sha256:".length());
  }

  /**
   * A fresh SHA-256: the JDK's, or a faster one installed with {@link #useSha256} (the daemon
   * runs with C1 only, under which the JDK's runs at about a tenth of the CPU's SHA speed).
   */
  public static MessageDigest sha256() {
    Supplier<MessageDigest> installed = faster;
    return installed != null ? installed.get() : jdkSha256();
  }

  /** The JDK's own SHA-256. */
  public static MessageDigest jdkSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /**
   * Makes {@link #sha256()} return what {@code implementation} supplies (null: the JDK's
   * again). Whoever installs one checks it against the JDK's first.
   */
  public static void useSha256(Supplier<MessageDigest> implementation) {
    faster = implementation;
  }

  public static String of(MessageDigest finished) {
    return "sha256:" + HexFormat.of().formatHex(finished.digest());
  }

  public static String of(byte[] data) {
    MessageDigest digest = sha256();
    digest.update(data);
    return of(digest);
  }
}
