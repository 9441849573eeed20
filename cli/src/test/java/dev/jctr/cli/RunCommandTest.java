package dev.jctr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jctr.api.proto.containerd.runc.options.Options;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunCommandTest {

  private static final JsonObject CONFIG = JsonParser.parseString("""
      {"Entrypoint":["/entry"],"Cmd":["default","args"],"Env":["PATH=/bin","A=1"],
       "WorkingDir":"/work","User":"1000:100"}""").getAsJsonObject();

  private static OciSpecs.Options options(List<String> args, List<String> env, boolean netHost) {
    return new OciSpecs.Options(args, env, List.of(), netHost, 0, 0, false, "");
  }

  @Test
  void theImageConfigGivesCommandEnvironmentDirectoryAndUser() {
    JsonObject spec = OciSpecs.build("ns", "c1", CONFIG, options(List.of(), List.of(), false));
    JsonObject process = spec.getAsJsonObject("process");
    assertEquals("[\"/entry\",\"default\",\"args\"]", process.get("args").toString());
    assertEquals("[\"PATH=/bin\",\"A=1\"]", process.get("env").toString());
    assertEquals("/work", process.get("cwd").getAsString());
    assertEquals(1000, process.getAsJsonObject("user").get("uid").getAsInt());
    assertEquals(100, process.getAsJsonObject("user").get("gid").getAsInt());
    assertTrue(process.get("noNewPrivileges").getAsBoolean());
    assertEquals("/ns/c1", spec.getAsJsonObject("linux").get("cgroupsPath").getAsString());
    assertEquals("c1", spec.get("hostname").getAsString());
    assertTrue(spec.getAsJsonObject("linux").get("namespaces").toString()
        .contains("\"network\""));
  }

  @Test
  void commandLineArgumentsReplaceCmdButKeepTheEntrypointAndEnvOverrides() {
    JsonObject spec = OciSpecs.build("ns", "c1", CONFIG,
        options(List.of("x", "-y"), List.of("A=2", "B=3"), false));
    JsonObject process = spec.getAsJsonObject("process");
    assertEquals("[\"/entry\",\"x\",\"-y\"]", process.get("args").toString());
    assertEquals("[\"PATH=/bin\",\"A=2\",\"B=3\"]", process.get("env").toString());
  }

  @Test
  void hostNetworkDropsTheNetworkNamespaceAndSharesHostsAndResolvConf() {
    JsonObject spec = OciSpecs.build("ns", "c1", null, options(List.of("sh"), List.of(), true));
    assertFalse(spec.getAsJsonObject("linux").get("namespaces").toString()
        .contains("\"network\""));
    String mounts = spec.get("mounts").toString();
    assertTrue(mounts.contains("/etc/resolv.conf") && mounts.contains("/etc/hosts"), mounts);
    assertTrue(spec.getAsJsonObject("process").get("env").toString().contains("PATH="),
        "a PATH even without an image config");
  }

  @Test
  void cpusAndMemoryBecomeCgroupLimits() {
    JsonObject spec = OciSpecs.build("ns", "c1", null, new OciSpecs.Options(List.of("sh"),
        List.of(), List.of(), false, 0.5, 64L << 20, false, ""));
    JsonObject resources = spec.getAsJsonObject("linux").getAsJsonObject("resources");
    assertEquals(50000, resources.getAsJsonObject("cpu").get("quota").getAsLong());
    assertEquals(100000, resources.getAsJsonObject("cpu").get("period").getAsLong());
    assertEquals(64L << 20, resources.getAsJsonObject("memory").get("limit").getAsLong());
  }

  @Test
  void mountsAreParsedAsCtrSpellsThemAndBadOnesRefused() {
    JsonObject mount = OciSpecs.parseMount("type=bind,src=/data,dst=/mnt,options=rbind:ro");
    assertEquals("/mnt", mount.get("destination").getAsString());
    assertEquals("/data", mount.get("source").getAsString());
    assertEquals("[\"rbind\",\"ro\"]", mount.get("options").toString());
    assertEquals("[\"rbind\"]", OciSpecs.parseMount("src=/a,dst=/b").get("options").toString());
    assertThrows(IllegalArgumentException.class, () -> OciSpecs.parseMount("src=/a,dst=b"));
    assertThrows(IllegalArgumentException.class, () -> OciSpecs.parseMount("src=/a"));
    assertThrows(IllegalArgumentException.class, () -> OciSpecs.parseMount("bogus=1,dst=/b"));
  }

  @Test
  void runcBinaryBecomesTheRuncOptionsOfTheContainersRuntime() throws Exception {
    for (String[] command : List.of(
        new String[] {"run", "--runc-binary", "crun", "busybox", "c1"},
        new String[] {"containers", "create", "--runtime", "io.containerd.jctr.v2",
            "--runc-binary", "crun", "c1"})) {
      Container.Runtime runtime = ContainersCommand.runtime(Parsed.parse(Jctr.commands(),
          command));
      assertEquals("io.containerd.jctr.v2", runtime.getName());
      assertEquals("containerd.runc.v1.Options", runtime.getOptions().getTypeUrl());
      assertEquals("crun", Options.parseFrom(runtime.getOptions().getValue()).getBinaryName());
    }
    Container.Runtime plain = ContainersCommand.runtime(Parsed.parse(Jctr.commands(),
        new String[] {"run", "busybox", "c1"}));
    assertEquals(RunCommand.DEFAULT_RUNTIME, plain.getName());
    assertFalse(plain.hasOptions(), "no options unless asked: the shim's default runc");
  }

  @Test
  void referencesNormalizeAsDockerAndCtrReadThem() {
    assertEquals("docker.io/library/busybox:latest", RunCommand.normalize("busybox"));
    assertEquals("docker.io/library/busybox:1.36", RunCommand.normalize("busybox:1.36"));
    assertEquals("docker.io/me/app:latest", RunCommand.normalize("me/app"));
    assertEquals("127.0.0.1:5000/app:latest", RunCommand.normalize("127.0.0.1:5000/app"));
    assertEquals("localhost/app:v1", RunCommand.normalize("localhost/app:v1"));
    assertEquals("docker.io/library/a@sha256:00", RunCommand.normalize("a@sha256:00"));
  }

  @Test
  void theChainIdChainsDiffIdsAsTheImageSpecSays() throws Exception {
    String a = "sha256:" + "a".repeat(64);
    String b = "sha256:" + "b".repeat(64);
    JsonObject one = JsonParser.parseString("{\"rootfs\":{\"diff_ids\":[\"" + a + "\"]}}")
        .getAsJsonObject();
    assertEquals(a, RunCommand.chainId(one));
    JsonObject two = JsonParser.parseString("{\"rootfs\":{\"diff_ids\":[\"" + a + "\",\"" + b
        + "\"]}}").getAsJsonObject();
    String expected = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest((a + " " + b).getBytes(StandardCharsets.UTF_8)));
    assertEquals(expected, RunCommand.chainId(two));
  }
}
