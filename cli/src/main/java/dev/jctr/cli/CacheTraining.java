package dev.jctr.cli;

import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.ContainersGrpc;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersResponse;
import dev.jctr.cli.transport.GrpcConnection;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The workload {@code bin/jctr} records its ahead-of-time class cache from: what a real command
 * does, without a daemon. Every command's help, the way to a connection and its
 * failure, HPACK both ways, a listing parsed from the wire and printed as a table and as JSON.
 * What runs here is loaded, linked and profiled once at training instead of at every start.
 */
public final class CacheTraining {

  private CacheTraining() {}

  public static void main(String[] args) throws Exception {
    StringWriter sink = new StringWriter();
    PrintWriter out = new PrintWriter(sink);

    help(Jctr.commands(), out);

    Path absent = Files.createTempDirectory("jctr-training").resolve("absent.sock");
    try {
      for (String[] command : List.of(new String[] {"containers", "ls", "-q"},
          new String[] {"-n", "k8s.io", "containers", "list", "--format", "json"},
          new String[] {"namespaces", "ls"}, new String[] {"leases", "ls"},
          new String[] {"plugins", "ls"}, new String[] {"version"})) {
        String[] withAddress = new String[command.length + 2];
        withAddress[0] = "--address";
        withAddress[1] = absent.toString();
        System.arraycopy(command, 0, withAddress, 2, command.length);
        Jctr.run(withAddress, out, out);
      }
    } finally {
      Files.deleteIfExists(absent.getParent());
    }

    GrpcConnection.exerciseCodecs();

    ListContainersResponse.Builder listing = ListContainersResponse.newBuilder();
    for (int i = 0; i < 200; i++) {
      Container.Builder container = Container.newBuilder().setId("training-" + i)
          .setImage("registry.local/training:" + i)
          .putLabels("io.kubernetes.pod.name", "pod-" + i)
          .setSpec(ContainersCommand.minimalSpec(List.of("sh")));
      container.getRuntimeBuilder().setName(ContainersCommand.DEFAULT_RUNTIME);
      listing.addContainers(container);
    }
    try (InputStream wire = ContainersGrpc.getListMethod().streamResponse(listing.build())) {
      List<Container> parsed = ContainersGrpc.getListMethod().parseResponse(wire)
          .getContainersList();
      out.print(ContainersCommand.table(parsed));
      parsed.forEach(c -> out.println(ContainersCommand.toJson(c)));
    }
    out.flush();
    System.out.println("trained on " + sink.getBuffer().length() + " characters of output");
  }

  private static void help(Command command, PrintWriter out) {
    out.print(Help.of(command));
    command.subcommands().forEach(sub -> help(sub, out));
  }
}
