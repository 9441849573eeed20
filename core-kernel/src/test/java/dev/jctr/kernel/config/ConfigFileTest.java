package dev.jctr.kernel.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigFileTest {

  @Test
  void embeddedDefaultsMatchContainerdsShapeWithJctrPaths() {
    DaemonConfig config = ConfigFile.defaults();
    assertEquals(3, config.version());
    assertEquals(Path.of("/var/lib/jctr"), config.root());
    assertEquals(Path.of("/run/jctr"), config.state());
    assertEquals(Path.of("/run/jctr/jctrd.sock"), config.grpcAddress());
    assertEquals(Path.of("/run/jctr/jctrd.sock.ttrpc"), config.ttrpcAddress());
    assertEquals("info", config.logLevel());
    assertEquals(16 << 20, config.maxRecvMessageSize());
    assertTrue(config.disabledPlugins().isEmpty());
    assertTrue(config.plugins().isEmpty());
  }

  @Test
  void fileValuesOverrideDefaultsAndPluginSectionsAreKeptByUri() {
    String text = """
        version = 2
        root = "/tmp/r"
        disabled_plugins = ["io.containerd.snapshotter.v1.native"]
        [grpc]
          address = "/tmp/s/jctrd.sock"
          gid = 42
        [debug]
          level = "DEBUG"
        [plugins."io.containerd.grpc.v1.cri"]
          sandbox_image = "pause:3.10"
          [plugins."io.containerd.grpc.v1.cri".cni]
            bin_dir = "/opt/cni/bin"
            conf_dirs = ["/etc/cni/net.d", "/usr/lib/cni"]
            max_conf_num = 1
        """;
    DaemonConfig config = ConfigFile.parse(text, "test.toml", new ArrayList<>());
    assertEquals(2, config.version());
    assertEquals(Path.of("/tmp/r"), config.root());
    assertEquals(Path.of("/run/jctr"), config.state());
    assertEquals(Path.of("/tmp/s/jctrd.sock.ttrpc"), config.ttrpcAddress());
    assertEquals(42, config.grpcGid());
    assertEquals("debug", config.logLevel());
    assertEquals(List.of("io.containerd.snapshotter.v1.native"), config.disabledPlugins());
    Map<String, Object> cri = config.plugins().get("io.containerd.grpc.v1.cri");
    assertEquals("pause:3.10", cri.get("sandboxImage"));
    assertEquals("/opt/cni/bin", cri.get("cni.binDir"));
    assertArrayEquals(new String[] {"/etc/cni/net.d", "/usr/lib/cni"},
        (String[]) cri.get("cni.confDirs"));
    assertEquals(1L, cri.get("cni.maxConfNum"));
  }

  @Test
  void syntaxErrorNamesTheFileAndLine() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigFile.parse("version = 3\n[grpc\n", "bad.toml", new ArrayList<>()));
    assertTrue(e.getMessage().startsWith("bad.toml: line 2"), e.getMessage());
  }

  @Test
  void versionOneIsRefusedWithTheFix() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigFile.parse("version = 1\n", "old.toml", new ArrayList<>()));
    assertTrue(e.getMessage().contains("use version = 2 or 3"), e.getMessage());
  }

  @Test
  void wrongTypesAreReportedByKey() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigFile.parse("[grpc]\naddress = 5\n", "t.toml", new ArrayList<>()));
    assertEquals("t.toml: grpc.address must be a string", e.getMessage());
    e = assertThrows(ConfigException.class,
        () -> ConfigFile.parse("disabled_plugins = [1]\n", "t.toml", new ArrayList<>()));
    assertEquals("t.toml: disabled_plugins must be an array of strings", e.getMessage());
  }

  @Test
  void unknownLogLevelIsRefused() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigFile.parse("[debug]\nlevel = \"loud\"\n", "t.toml", new ArrayList<>()));
    assertTrue(e.getMessage().contains("debug.level \"loud\""), e.getMessage());
  }

  @Test
  void unknownTopLevelKeysAreWarnedAboutNotFatal() {
    List<String> warnings = new ArrayList<>();
    ConfigFile.parse("colour = \"blue\"\n", "t.toml", warnings);
    assertEquals(List.of("t.toml: unknown key \"colour\" ignored"), warnings);
  }

  @Test
  void newAddressMovesTheDefaultTtrpcAddressButNotAnExplicitOne() {
    DaemonConfig moved = ConfigFile.defaults().withGrpcAddress(Path.of("/x/a.sock"));
    assertEquals(Path.of("/x/a.sock.ttrpc"), moved.ttrpcAddress());
    DaemonConfig explicit = ConfigFile.parse("[ttrpc]\naddress = \"/y/t.sock\"\n", "t",
        new ArrayList<>()).withGrpcAddress(Path.of("/x/a.sock"));
    assertEquals(Path.of("/y/t.sock"), explicit.ttrpcAddress());
  }
}
