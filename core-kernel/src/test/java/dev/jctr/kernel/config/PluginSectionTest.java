package dev.jctr.kernel.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.tomlj.Toml;

import org.junit.jupiter.api.Test;

class PluginSectionTest {

  @Test
  void snakeCaseBecomesCamelCase() {
    assertEquals("maxConcurrentDownloads", PluginSection.camelCase("max_concurrent_downloads"));
    assertEquals("binDir", PluginSection.camelCase("bin-dir"));
    assertEquals("address", PluginSection.camelCase("address"));
    assertEquals("SystemdCgroup", PluginSection.camelCase("SystemdCgroup"));
    assertEquals("leading", PluginSection.camelCase("_leading"));
  }

  @Test
  void hostNamesInQuotedKeysKeepTheirSpelling() {
    Map<String, Object> flat = PluginSection.flatten(Toml.parse(String.join("\n",
        "[registry]",
        "  config_path = \"\"",
        "[registry.mirrors.\"my-registry.example:5000\"]",
        "  endpoint = [\"http://127.0.0.1:5000\", \"https://mirror_one.example\"]",
        "[registry.configs.\"docker.io\".tls]",
        "  insecure_skip_verify = true")));
    assertEquals("", flat.get("registry.configPath"));
    assertArrayEquals(new String[] {"http://127.0.0.1:5000", "https://mirror_one.example"},
        (String[]) flat.get("registry.mirrors.my-registry.example:5000.endpoint"));
    assertEquals(Boolean.TRUE, flat.get("registry.configs.docker.io.tls.insecureSkipVerify"));
  }
}
