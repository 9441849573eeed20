package dev.jctr.metadata.pull;

import com.google.gson.JsonObject;
import java.util.List;
import java.util.Locale;

/** Platform names and containerd's default matching: the host's, then its compatible ones. */
public final class Platforms {

  private Platforms() {}

  /** This host as {@code os/arch}. */
  public static String host() {
    return "linux/" + normalizeArchitecture(System.getProperty("os.arch"));
  }

  static String normalizeArchitecture(String arch) {
    return switch (arch.toLowerCase(Locale.ROOT)) {
      case "x86_64", "x86-64", "amd64" -> "amd64";
      case "aarch64", "arm64" -> "arm64";
      case "i386", "i686", "x86", "386" -> "386";
      default -> arch.toLowerCase(Locale.ROOT);
    };
  }

  /** Platforms acceptable for {@code wanted}, best first ({@code linux/amd64} also takes 386). */
  public static List<String> preference(String wanted) {
    return switch (wanted) {
      case "linux/amd64" -> List.of("linux/amd64", "linux/386");
      case "linux/arm64" -> List.of("linux/arm64", "linux/arm64/v8", "linux/arm/v8",
          "linux/arm/v7", "linux/arm/v6", "linux/arm/v5");
      default -> List.of(wanted);
    };
  }

  /** {@code os/arch[/variant]} of an index entry's {@code platform} object. */
  public static String of(JsonObject platform) {
    if (platform == null) {
      return "";
    }
    String os = text(platform, "os");
    String arch = normalizeArchitecture(text(platform, "architecture"));
    String variant = text(platform, "variant");
    if (arch.equals("amd64") && variant.equals("v1")) {
      variant = "";
    }
    if (arch.equals("arm64") && (variant.equals("v8") || variant.equals("8"))) {
      variant = "";
    }
    return os + "/" + arch + (variant.isEmpty() ? "" : "/" + variant);
  }

  private static String text(JsonObject object, String name) {
    return object.has(name) && object.get(name).isJsonPrimitive()
        ? object.get(name).getAsString().toLowerCase(Locale.ROOT) : "";
  }
}
