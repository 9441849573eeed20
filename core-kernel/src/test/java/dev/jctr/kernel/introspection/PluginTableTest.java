package dev.jctr.kernel.introspection;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PluginTableTest {

  @Test
  void theReasonIsTheSkipLineOrTheRootCauseWithoutItsClassName() {
    String wrapped = """
        org.osgi.service.component.ComponentException: java.lang.reflect.InvocationTargetException
        \tat org.apache.felix.scr.impl.inject.ComponentConstructorImpl.newInstance(x.java:1)
        Caused by: java.lang.reflect.InvocationTargetException
        \tat java.base/jdk.internal.reflect.DirectConstructorHandleAccessor.newInstance(x.java:1)
        Caused by: dev.jctr.api.plugin.SkipPluginException: overlayfs does not work under /r: \
        skip plugin
        \t... 12 more
        """;
    assertEquals("overlayfs does not work under /r: skip plugin", PluginTable.firstLine(wrapped));
    String rootCause = """
        java.lang.IllegalStateException: could not start
        Caused by: java.io.IOException: /var/lib/jctr: read-only file system
        """;
    assertEquals("/var/lib/jctr: read-only file system", PluginTable.firstLine(rootCause));
    assertEquals("plain message",
        PluginTable.firstLine("java.lang.RuntimeException: plain message"));
    assertEquals("activation failed", PluginTable.firstLine(null));
  }
}
