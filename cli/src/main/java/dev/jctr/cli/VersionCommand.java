package dev.jctr.cli;

import com.google.gson.JsonObject;
import com.google.protobuf.Empty;
import dev.jctr.api.proto.containerd.services.introspection.v1.IntrospectionGrpc;
import dev.jctr.api.proto.containerd.services.introspection.v1.ServerResponse;
import dev.jctr.api.proto.containerd.services.version.v1.VersionGrpc;
import dev.jctr.api.proto.containerd.services.version.v1.VersionResponse;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jctr version}: client and server versions, and the server's UUID. */
@Command(name = "version", description = "Print the client and server versions.")
final class VersionCommand implements Callable<Integer>, Jctr.Connected {

  @ParentCommand Jctr root;
  @Spec CommandSpec spec;

  @Override
  public Jctr root() {
    return root;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (root.format != Jctr.Format.json) {
      // the client's part first, as ctr does: it is useful even when jctrd cannot be reached
      out.println("Client:");
      out.println("  Version:  " + ClientVersion.version());
      out.println("  Java version: " + Runtime.version());
      out.println();
      out.flush();
    }
    try (DaemonConnection connection = root.connect()) {
      VersionResponse version = connection.call(VersionGrpc.getVersionMethod(),
          Empty.getDefaultInstance());
      ServerResponse server = connection.call(IntrospectionGrpc.getServerMethod(),
          Empty.getDefaultInstance());
      if (root.format == Jctr.Format.json) {
        JsonObject client = new JsonObject();
        client.addProperty("version", ClientVersion.version());
        client.addProperty("java", Runtime.version().toString());
        JsonObject serverJson = new JsonObject();
        serverJson.addProperty("version", version.getVersion());
        serverJson.addProperty("revision", version.getRevision());
        serverJson.addProperty("uuid", server.getUuid());
        JsonObject both = new JsonObject();
        both.add("client", client);
        both.add("server", serverJson);
        out.println(both);
      } else {
        out.println("Server:");
        out.println("  Version:  " + version.getVersion());
        out.println("  Revision: " + version.getRevision());
        out.println("  UUID: " + server.getUuid());
      }
      out.flush();
      return 0;
    }
  }
}
