package dev.jctr.cli;

/** The client's own version, from its jar manifest. */
final class ClientVersion {

  private ClientVersion() {}

  static String version() {
    String version = Jctr.class.getPackage().getImplementationVersion();
    return version == null ? "unknown" : version;
  }
}
