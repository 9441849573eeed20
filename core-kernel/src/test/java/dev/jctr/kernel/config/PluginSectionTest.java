package dev.jctr.kernel.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
