package dev.jctr.cri;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jctr.api.errors.NotFoundException;
import dev.jctr.api.proto.containerd.runc.options.Options;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CRI section's runtime handlers as the kernel hands them over (flattened, camelCase). */
class CriConfigTest {

  private static Options runcOptions(Container.Runtime runtime) throws Exception {
    assertEquals("containerd.runc.v1.Options", runtime.getOptions().getTypeUrl());
    return Options.parseFrom(runtime.getOptions().getValue());
  }

  @Test
  void withNothingConfiguredJctrIsTheDefaultAndRuncIsKnown() {
    CriConfig config = CriConfig.from(Map.of());
    assertEquals("io.containerd.jctr.v2", config.runtimeOf("").getName());
    assertEquals("io.containerd.runc.v2", config.runtimeOf("runc").getName());
    assertFalse(config.runtimeOf("runc").hasOptions(), "no options: the shim's own runc");
    NotFoundException unknown = assertThrows(NotFoundException.class,
        () -> config.runtimeOf("kata"));
    assertTrue(unknown.getMessage().contains("containerd.runtimes.kata] runtime_type"),
        unknown.getMessage());
  }

  @Test
  void aHandlersOptionsBecomeRuncOptionsOfItsRuntime() throws Exception {
    // [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun]
    //   runtime_type = "io.containerd.runc.v2"
    //   [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]
    //     BinaryName = "crun"
    //     Root = "/run/crun-k8s"
    //     SystemdCgroup = true
    CriConfig config = CriConfig.from(Map.of(
        "containerd.defaultRuntimeName", "crun",
        "containerd.runtimes.crun.runtimeType", "io.containerd.runc.v2",
        "containerd.runtimes.crun.options.BinaryName", "crun",
        "containerd.runtimes.crun.options.Root", "/run/crun-k8s",
        "containerd.runtimes.crun.options.SystemdCgroup", Boolean.TRUE,
        "containerd.runtimes.jcrun.runtimeType", "io.containerd.jctr.v2",
        "containerd.runtimes.jcrun.options.binaryName", "/usr/bin/crun"));
    Container.Runtime crun = config.runtimeOf("");
    assertEquals("io.containerd.runc.v2", crun.getName());
    assertEquals("crun", runcOptions(crun).getBinaryName());
    assertEquals("/run/crun-k8s", runcOptions(crun).getRoot());
    Container.Runtime jcrun = config.runtimeOf("jcrun");
    assertEquals("io.containerd.jctr.v2", jcrun.getName());
    assertEquals("/usr/bin/crun", runcOptions(jcrun).getBinaryName(), "binary_name, too");
    assertEquals("", runcOptions(jcrun).getRoot());
  }

  @Test
  void theBuiltInHandlersTakeOptionsWithoutARuntimeType() throws Exception {
    CriConfig config = CriConfig.from(Map.of("containerd.runtimes.jctr.options.BinaryName",
        "crun"));
    assertEquals("io.containerd.jctr.v2", config.runtimeOf("jctr").getName());
    assertEquals("crun", runcOptions(config.runtimeOf("jctr")).getBinaryName());
    assertFalse(config.runtimeOf("runc").hasOptions());
  }
}
