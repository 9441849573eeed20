package dev.jctr.cri.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.gson.JsonObject;
import dev.jctr.api.proto.containerd.runc.options.Options;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.cri.v1.PodSandboxConfig;
import dev.jctr.api.typeurl.TypeUrls;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PodSandboxTest {

  @Test
  void theRuntimeAndItsOptionsSurviveASaveAndLoad(@TempDir Path dir) throws Exception {
    Container.Runtime runtime = Container.Runtime.newBuilder().setName("io.containerd.jctr.v2")
        .setOptions(TypeUrls.pack(Options.newBuilder().setBinaryName("crun").build())).build();
    new PodSandbox("s1", "pod_ns_uid_0", PodSandboxConfig.getDefaultInstance(), "crun",
        runtime, 1L, "/k8s.io", dir).save();
    PodSandbox loaded = PodSandbox.load(dir);
    assertEquals(runtime, loaded.runtime());
    assertEquals("crun", loaded.runtimeHandler());
  }

  @Test
  void aRecordSavedBeforeRuntimeOptionsLoadsWithNone(@TempDir Path dir) throws Exception {
    new PodSandbox("s1", "pod_ns_uid_0", PodSandboxConfig.getDefaultInstance(), "",
        Container.Runtime.newBuilder().setName("io.containerd.runc.v2").build(), 1L,
        "/k8s.io", dir).save();
    JsonObject json = JsonFiles.read(dir.resolve("sandbox.json"));
    json.remove("runtimeOptions");
    JsonFiles.write(dir.resolve("sandbox.json"), json);
    PodSandbox loaded = PodSandbox.load(dir);
    assertEquals("io.containerd.runc.v2", loaded.runtime().getName());
    assertFalse(loaded.runtime().hasOptions());
  }
}
