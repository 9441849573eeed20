package dev.jctr.cri;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.images.ImageCatalog;
import dev.jctr.api.proto.containerd.services.images.v1.Image;
import dev.jctr.api.proto.containerd.types.Descriptor;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CriImagesTest {

  private static final String MANIFEST = "sha256:" + "1".repeat(64);
  private static final String CONFIG = "sha256:" + "2".repeat(64);
  private static final String DIFF_ID = "sha256:" + "3".repeat(64);

  /** A catalog of one image in k8s.io that counts the blobs read. */
  private static final class OneImage implements ImageCatalog {
    final Map<String, Integer> reads = new HashMap<>();
    final Image record = Image.newBuilder().setName("docker.io/library/busybox:latest")
        .setTarget(Descriptor.newBuilder().setDigest(MANIFEST)
            .setMediaType("application/vnd.oci.image.manifest.v1+json")).build();

    @Override
    public List<Image> list(String namespace) {
      return List.of(record);
    }

    @Override
    public Image get(String namespace, String name) {
      if (!name.equals(record.getName())) {
        throw new NotFoundException("image \"" + name + "\"");
      }
      return record;
    }

    @Override
    public void delete(String namespace, String name) {}

    @Override
    public Image pull(String namespace, String reference, String username, String password,
        String snapshotter, String hostsDir) {
      throw new UnsupportedOperationException();
    }

    @Override
    public byte[] read(String namespace, String digest) {
      reads.merge(digest, 1, Integer::sum);
      String json = digest.equals(MANIFEST)
          ? "{\"config\":{\"digest\":\"" + CONFIG + "\",\"size\":10},"
              + "\"layers\":[{\"digest\":\"sha256:" + "4".repeat(64) + "\",\"size\":20}]}"
          : "{\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"diff_ids\":[\"" + DIFF_ID + "\"]}}";
      return json.getBytes(StandardCharsets.UTF_8);
    }
  }

  @Test
  void aManifestAndItsConfigAreReadOnceForEveryStartThatUsesThem() {
    OneImage catalog = new OneImage();
    CriImages images = new CriImages(catalog);
    for (int i = 0; i < 5; i++) {
      CriImages.Usable usable = images.resolveByName("docker.io/library/busybox:latest");
      assertEquals(CONFIG, usable.id());
      assertEquals(DIFF_ID, usable.chainId());
      assertEquals(30, images.find("busybox").image().getSize());
    }
    assertEquals(Map.of(MANIFEST, 1, CONFIG, 1), catalog.reads);
  }

  @Test
  void aCallerChangingItsConfigDoesNotChangeTheNextOne() {
    CriImages images = new CriImages(new OneImage());
    images.resolveByName("docker.io/library/busybox:latest").config().remove("config");
    assertTrue(images.resolveByName("docker.io/library/busybox:latest").config()
        .has("config"));
    assertThrows(NotFoundException.class, () -> images.resolveByName("nothere:1"));
  }
}
