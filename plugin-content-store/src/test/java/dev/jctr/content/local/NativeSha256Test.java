package dev.jctr.content.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.content.Digests;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class NativeSha256Test {

  @Test
  void libcryptoHashesAsTheJdkDoesAcrossPiecesClonesAndResets() {
    NativeSha256.load(); // Debian's libssl3, present wherever openssl or containerd is
    assertTrue(FastDigests.agrees());
    NativeSha256 digest = new NativeSha256();
    digest.update("abc".getBytes(StandardCharsets.UTF_8));
    assertEquals("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        Digests.of(digest), "FIPS 180-2 test vector");
    digest.update(ByteBuffer.allocateDirect(100_000));
    assertEquals(Digests.of(new byte[100_000]), Digests.of(digest), "direct buffers too");
  }

  @Test
  void installedItIsWhatDigestsHandsOut() {
    NativeSha256.load();
    Digests.useSha256(NativeSha256::new);
    try {
      assertEquals(NativeSha256.class, Digests.sha256().getClass());
      assertEquals("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
          Digests.of(new byte[0]));
    } finally {
      Digests.useSha256(null);
    }
    assertEquals(Digests.jdkSha256().getClass(), Digests.sha256().getClass());
  }
}
