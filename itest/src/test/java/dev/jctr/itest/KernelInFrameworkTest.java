package dev.jctr.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;

import com.google.protobuf.Empty;
import dev.jctr.api.proto.containerd.services.introspection.v1.IntrospectionGrpc;
import dev.jctr.api.proto.containerd.services.introspection.v1.Plugin;
import dev.jctr.api.proto.containerd.services.introspection.v1.PluginsRequest;
import dev.jctr.api.proto.containerd.services.version.v1.VersionGrpc;
import dev.jctr.api.proto.grpc.health.v1.HealthCheckRequest;
import dev.jctr.api.proto.grpc.health.v1.HealthCheckResponse.ServingStatus;
import dev.jctr.api.proto.grpc.health.v1.HealthGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Boots Felix with the distribution's real bundles and the kernel bundle, then talks to the
 * daemon socket the kernel serves: the gRPC whiteboard, plugin introspection, the namespace
 * check and config.toml reaching ConfigAdmin.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class KernelInFrameworkTest {

  /** The PID the config test uses: a plugin URI with no component behind it. */
  private static final String SAMPLE_PID = "io.jctr.test.sample";

  @Inject BundleContext context;
  @Inject ConfigurationAdmin configAdmin;

  private EventLoopGroup group;
  private ManagedChannel channel;

  @Configuration
  public Option[] config() throws IOException {
    Path dist = Path.of(System.getProperty("jctr.dist", "missing-jctr.dist"));
    Path bundles = dist.resolve("bundles");
    if (!Files.isDirectory(bundles)) {
      throw new IllegalStateException("no distribution at " + dist
          + ": build it first (mvn -pl distribution -am package)");
    }
    Path temp = Files.createTempDirectory("jctr-itest-");
    Path configFile = temp.resolve("config.toml");
    Files.writeString(configFile, sampleConfig("first"));
    List<Option> options = new ArrayList<>();
    options.add(cleanCaches());
    options.add(junitBundles());
    options.add(frameworkProperty("org.osgi.framework.bootdelegation").value("sun.*,com.sun.*"));
    options.add(frameworkProperty("jctr.root").value(temp.resolve("root").toString()));
    options.add(frameworkProperty("jctr.state").value(temp.resolve("state").toString()));
    options.add(frameworkProperty("jctr.grpc.address").value(temp.resolve("jctrd.sock").toString()));
    options.add(frameworkProperty("jctr.ttrpc.address")
        .value(temp.resolve("jctrd.sock.ttrpc").toString()));
    options.add(frameworkProperty("jctr.config.file").value(configFile.toString()));
    options.add(frameworkProperty("jctr.itest.temp").value(temp.toString()));
    try (DirectoryStream<Path> jars = Files.newDirectoryStream(bundles, "*.jar")) {
      for (Path jar : jars) {
        options.add(isFragment(jar) ? bundle(jar.toUri().toString()).noStart()
            : bundle(jar.toUri().toString()));
      }
    }
    options.add(bundle(dist.resolve("lib/daemon/core-kernel.jar").toUri().toString()));
    return options.toArray(Option[]::new);
  }

  private static boolean isFragment(Path jar) throws IOException {
    try (java.util.jar.JarFile file = new java.util.jar.JarFile(jar.toFile())) {
      return file.getManifest().getMainAttributes().getValue("Fragment-Host") != null;
    }
  }

  private static String sampleConfig(String value) {
    return "version = 3\n"
        + "[plugins.\"" + SAMPLE_PID + "\"]\n"
        + "  sample_key = \"" + value + "\"\n"
        + "  [plugins.\"" + SAMPLE_PID + "\".nested]\n"
        + "    names = [\"x\", \"y\"]\n";
  }

  @Before
  public void connect() throws Exception {
    Path socket = Path.of(context.getProperty("jctr.grpc.address"));
    awaitTrue("socket " + socket, () -> Files.exists(socket));
    group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollDomainSocketChannel.class)
        .eventLoopGroup(group)
        .usePlaintext()
        .build();
  }

  @After
  public void disconnect() throws InterruptedException {
    channel.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
  }

  @Test
  public void versionAnswersOverTheRealSocket() {
    var response = VersionGrpc.newBlockingStub(channel).version(Empty.getDefaultInstance());
    Bundle kernel = bundleNamed("dev.jctr.kernel");
    assertEquals(kernel.getVersion().toString(), response.getVersion());
  }

  @Test
  public void stoppingAServiceBundleMakesItUnimplementedAndStartingItRestoresIt()
      throws Exception {
    var health = HealthGrpc.newBlockingStub(channel);
    HealthCheckRequest request = HealthCheckRequest.getDefaultInstance();
    assertEquals(ServingStatus.SERVING, health.check(request).getStatus());

    Bundle plugin = bundleNamed("dev.jctr.plugin-healthcheck");
    plugin.stop();
    try {
      health.check(request);
      fail("Health/Check still answered with its bundle stopped");
    } catch (StatusRuntimeException e) {
      assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
    }
    // the server itself kept running: the kernel's own services still answer
    assertFalse(VersionGrpc.newBlockingStub(channel)
        .version(Empty.getDefaultInstance()).getVersion().isEmpty());

    plugin.start();
    awaitTrue("Health/Check to answer again", () -> {
      try {
        return health.check(request).getStatus() == ServingStatus.SERVING;
      } catch (StatusRuntimeException e) {
        return false;
      }
    });
  }

  @Test
  public void pluginsListsEveryPluginComponentWithItsStatus() {
    List<Plugin> plugins = IntrospectionGrpc.newBlockingStub(channel)
        .plugins(PluginsRequest.getDefaultInstance()).getPluginsList();
    for (String id : List.of("version", "introspection", "healthcheck")) {
      Plugin plugin = plugins.stream()
          .filter(p -> p.getType().equals("io.containerd.grpc.v1") && p.getId().equals(id))
          .findFirst()
          .orElseThrow(() -> new AssertionError("plugin " + id + " missing from " + plugins));
      assertTrue(id + " should have no init error", !plugin.hasInitErr());
    }
    List<Plugin> filtered = IntrospectionGrpc.newBlockingStub(channel)
        .plugins(PluginsRequest.newBuilder().addFilters("id==version").build()).getPluginsList();
    assertEquals(1, filtered.size());
    assertEquals("version", filtered.get(0).getId());
  }

  @Test
  public void invalidNamespaceIsRejectedWithInvalidArgumentNamingIt() {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER),
        "bad!namespace");
    var stub = VersionGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    try {
      stub.version(Empty.getDefaultInstance());
      fail("a call with namespace bad!namespace succeeded");
    } catch (StatusRuntimeException e) {
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      assertTrue(e.getStatus().getDescription(),
          e.getStatus().getDescription().contains("\"bad!namespace\""));
    }
  }

  @Test
  public void configSectionsReachConfigAdminAndFollowTheFile() throws Exception {
    awaitTrue("config " + SAMPLE_PID, () -> sampleProperties() != null);
    Dictionary<String, Object> properties = sampleProperties();
    assertEquals("first", properties.get("sampleKey"));
    assertTrue(java.util.Arrays.equals(new String[] {"x", "y"},
        (String[]) properties.get("nested.names")));

    Path configFile = Path.of(context.getProperty("jctr.config.file"));
    Files.writeString(configFile, sampleConfig("second"));
    Files.setLastModifiedTime(configFile,
        java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
    awaitTrue("sampleKey to become second", () -> {
      Dictionary<String, Object> p = sampleProperties();
      return p != null && "second".equals(p.get("sampleKey"));
    });

    Files.writeString(configFile, "version = 3\n");
    Files.setLastModifiedTime(configFile,
        java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 10000));
    awaitTrue("the removed section to leave ConfigAdmin", () -> sampleProperties() == null);
    assertNull(sampleProperties());
  }

  private Dictionary<String, Object> sampleProperties() {
    try {
      org.osgi.service.cm.Configuration[] found = configAdmin.listConfigurations(
          "(service.pid=" + SAMPLE_PID + ")");
      return found == null ? null : found[0].getProperties();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private Bundle bundleNamed(String symbolicName) {
    for (Bundle bundle : context.getBundles()) {
      if (symbolicName.equals(bundle.getSymbolicName())) {
        return bundle;
      }
    }
    throw new AssertionError("no bundle " + symbolicName + " in the framework");
  }

  private static void awaitTrue(String what, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(100);
    }
    fail("timed out waiting for " + what);
  }
}
