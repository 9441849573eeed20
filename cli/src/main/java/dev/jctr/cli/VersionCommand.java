package dev.jctr.cli;

import com.google.gson.JsonObject;
import com.google.protobuf.Empty;
import dev.jctr.api.proto.containerd.services.introspection.v1.IntrospectionGrpc;
import dev.jctr.api.proto.containerd.services.introspection.v1.ServerResponse;
import dev.jctr.api.proto.containerd.services.version.v1.VersionGrpc;
import dev.jctr.api.proto.containerd.services.version.v1.VersionResponse;
import java.io.PrintWriter;

/** {@code jctr version}: client and server versions, and the server's UUID. */
final class VersionCommand {

  private VersionCommand() {}

  static Command command() {
    return Command.named("version")
        .describe("Print the client and server versions.")
        .runs(VersionCommand::run);
  }

  private static int run(Jctr root, Parsed args) {
    PrintWriter out = root.out();
    if (!root.json()) {
      // the client's part first, as ctr does: it is useful even when jctrd cannot be reached
      out.println("Client:");
      out.println("  Version:  " + ClientVersion.version());
      out.println("  Java version: " + Runtime.version());
      out.println();
      out.flush();
    }
    VersionResponse version = root.call(VersionGrpc.getVersionMethod(), Empty.getDefaultInstance());
    ServerResponse server = root.call(IntrospectionGrpc.getServerMethod(),
        Empty.getDefaultInstance());
    if (root.json()) {
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
    return 0;
  }
}
