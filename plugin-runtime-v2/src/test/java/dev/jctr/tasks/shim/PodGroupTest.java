package dev.jctr.tasks.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon and containerd-shim-jctr-v2 put a pod in the same shim slot. */
class PodGroupTest {

  private static final Path SCRIPT = Path.of(System.getProperty("user.dir"))
      .resolve("../distribution/src/bin/containerd-shim-jctr-v2").normalize();

  /** The group the shim script computes for a task of pod {@code sandbox}. */
  private static String scriptGroup(Path dir, String sandbox, String slots) throws Exception {
    Path bundle = Files.createDirectories(dir.resolve(sandbox));
    Files.writeString(bundle.resolve("config.json"), "{\"annotations\": {"
        + "\"io.kubernetes.cri.sandbox-id\": \"" + sandbox + "\"}}");
    ProcessBuilder builder = new ProcessBuilder("bash", SCRIPT.toString(), "-namespace",
        "k8s.io", "-id", "c1", "-bundle", bundle.toString(), "group");
    builder.environment().remove("JCTR_SHIM_GROUP");
    if (slots == null) {
      builder.environment().remove("JCTR_SHIM_POD_SLOTS");
    } else {
      builder.environment().put("JCTR_SHIM_POD_SLOTS", slots);
    }
    Process process = builder.redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, process.waitFor(), out);
    return out.strip();
  }

  @Test
  void theDaemonAndTheShimScriptAgreeOnEveryPodsSlot(@TempDir Path dir) throws Exception {
    assertTrue(Files.isRegularFile(SCRIPT), "the shim script at " + SCRIPT);
    Set<String> used = new HashSet<>();
    for (int i = 0; i < 24; i++) {
      String sandbox = Integer.toHexString(0x5eed0000 + i * 7919) + "f00d" + i;
      String group = TaskManager.podGroup(sandbox, null);
      assertEquals(scriptGroup(dir, sandbox, null), group, "pod " + sandbox);
      assertTrue(group.matches("pods/[0-3]"), group);
      used.add(group);
    }
    assertTrue(used.size() == 4, "24 pods spread over the 4 slots: " + used);
    assertEquals(scriptGroup(dir, "abc123", "3"), TaskManager.podGroup("abc123", "3"));
    assertEquals(scriptGroup(dir, "abc124", "03"), TaskManager.podGroup("abc124", "03"));
  }

  @Test
  void zeroSlotsGivesEveryPodItsOwnShimAndNonsenseMeansTheDefault(@TempDir Path dir)
      throws Exception {
    assertEquals("sandbox/pod-a", TaskManager.podGroup("pod-a", "0"));
    assertEquals(scriptGroup(dir, "pod-a", "0"), TaskManager.podGroup("pod-a", "0"));
    assertEquals(TaskManager.podGroup("pod-b", null), TaskManager.podGroup("pod-b", "-2"));
    assertEquals(scriptGroup(dir, "pod-b", "many"), TaskManager.podGroup("pod-b", "many"));
    assertEquals(TaskManager.podGroup("pod-b", "4"), TaskManager.podGroup("pod-b", ""));
  }
}
