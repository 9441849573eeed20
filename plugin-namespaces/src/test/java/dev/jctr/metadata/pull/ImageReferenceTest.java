package dev.jctr.metadata.pull;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonParser;
import dev.jctr.api.errors.InvalidArgumentException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ImageReferenceTest {

  @Test
  void shortNamesAreNormalisedAsDockerDoes() {
    assertEquals("docker.io/library/busybox:latest", ImageReference.parse("busybox").toString());
    assertEquals("registry-1.docker.io", ImageReference.parse("busybox").registry());
    assertEquals("docker.io/team/app:1", ImageReference.parse("team/app:1").toString());
    ImageReference local = ImageReference.parse("127.0.0.1:5000/team/app:1.2");
    assertEquals("127.0.0.1:5000", local.host());
    assertEquals("team/app", local.repository());
    assertEquals("1.2", local.object());
    String digest = "sha256:" + "a".repeat(64);
    ImageReference pinned = ImageReference.parse("localhost/app@" + digest);
    assertEquals(digest, pinned.object());
    assertEquals("", pinned.tag());
  }

  @Test
  void badReferencesAreRefused() {
    for (String bad : List.of("", " busybox", "Upper/Case", "app@sha256:short", "app:bad tag",
        "a//b")) {
      assertThrows(InvalidArgumentException.class, () -> ImageReference.parse(bad), bad);
    }
  }

  @Test
  void platformsNormaliseAndFallBackAsContainerdDoes() {
    assertEquals("linux/amd64", Platforms.of(JsonParser.parseString(
        "{\"os\":\"linux\",\"architecture\":\"x86_64\"}").getAsJsonObject()));
    assertEquals("linux/arm64", Platforms.of(JsonParser.parseString(
        "{\"os\":\"linux\",\"architecture\":\"aarch64\",\"variant\":\"v8\"}").getAsJsonObject()));
    assertEquals(List.of("linux/amd64", "linux/386"), Platforms.preference("linux/amd64"));
    assertEquals("linux/amd64", Platforms.host());
  }

  @Test
  void manifestsThatAreNotJsonObjectsAreRefused() {
    assertThrows(InvalidArgumentException.class, () -> dev.jctr.metadata.transfer.ImageJson.parse("not json".getBytes(), "m"));
    assertThrows(InvalidArgumentException.class, () -> dev.jctr.metadata.transfer.ImageJson.parse("[1,2]".getBytes(), "m"));
  }
}
