package dev.jctr.cli.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The decoder against RFC 7541's own examples (Appendix C), and against bad blocks. */
class HpackTest {

  private static byte[] hex(String spaced) {
    return HexFormat.of().parseHex(spaced.replace(" ", ""));
  }

  private static List<Map.Entry<String, String>> fields(String... namesAndValues) {
    List<Map.Entry<String, String>> fields = new java.util.ArrayList<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      fields.add(Map.entry(namesAndValues[i], namesAndValues[i + 1]));
    }
    return fields;
  }

  @Test
  void huffmanStringsDecodeAsInTheRfc() {
    byte[] authority = hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff");
    assertEquals("www.example.com", Hpack.huffmanDecode(authority, 0, authority.length));
    byte[] noCache = hex("a8eb 1064 9cbf");
    assertEquals("no-cache", Hpack.huffmanDecode(noCache, 0, noCache.length));
    byte[] customValue = hex("25a8 49e9 5bb8 e8b4 bf");
    assertEquals("custom-value", Hpack.huffmanDecode(customValue, 0, customValue.length));
  }

  @Test
  void requestsWithHuffmanShareOneDynamicTable() {
    // RFC 7541 C.4.1 to C.4.3: three requests on one connection
    Hpack.Decoder decoder = new Hpack.Decoder(4096);
    assertEquals(fields(":method", "GET", ":scheme", "http", ":path", "/",
            ":authority", "www.example.com"),
        decoder.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")));
    assertEquals(fields(":method", "GET", ":scheme", "http", ":path", "/",
            ":authority", "www.example.com", "cache-control", "no-cache"),
        decoder.decode(hex("8286 84be 5886 a8eb 1064 9cbf")));
    assertEquals(fields(":method", "GET", ":scheme", "https", ":path", "/index.html",
            ":authority", "www.example.com", "custom-key", "custom-value"),
        decoder.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")));
  }

  @Test
  void responsesEvictTheOldestEntriesFromASmallTable() {
    // RFC 7541 C.6.1 to C.6.3: a 256-byte table, so later responses evict earlier entries
    Hpack.Decoder decoder = new Hpack.Decoder(256);
    String location = "https://www.example.com";
    assertEquals(fields(":status", "302", "cache-control", "private",
            "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", location),
        decoder.decode(hex("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504"
            + " 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3")));
    assertEquals(fields(":status", "307", "cache-control", "private",
            "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", location),
        decoder.decode(hex("4883 640e ffc1 c0bf")));
    assertEquals(fields(":status", "200", "cache-control", "private",
            "date", "Mon, 21 Oct 2013 20:13:22 GMT", "location", location,
            "content-encoding", "gzip",
            "set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
        decoder.decode(hex("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff"
            + " c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1"
            + " ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07")));
  }

  @Test
  void theCodecsTrainingSampleDecodes() {
    GrpcConnection.exerciseCodecs(); // throws if its sample block were not valid HPACK
    Hpack.Decoder decoder = new Hpack.Decoder(4096);
    assertEquals(fields(":status", "200", "content-type", "application/grpc"),
        decoder.decode(hex("885f 8b1d 75d0 620d 263d 4c4d 6564")));
  }

  @Test
  void whatTheEncoderWritesTheDecoderReads() {
    List<Map.Entry<String, String>> request = fields(":method", "POST", ":scheme", "http",
        ":path", "/containerd.services.containers.v1.Containers/List",
        "containerd-namespace", "k8s.io", "grpc-timeout", "30000000u",
        "x-long", "v".repeat(300));
    assertEquals(request, new Hpack.Decoder(4096).decode(Hpack.encode(request)));
  }

  @Test
  void aTableSizeUpdateShrinksTheTableAndAboveTheLimitIsRefused() {
    Hpack.Decoder decoder = new Hpack.Decoder(4096);
    decoder.decode(hex("4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")); // custom-key
    assertEquals(fields("custom-key", "custom-value"), decoder.decode(hex("be")));
    decoder.decode(hex("20")); // size 0 empties the dynamic table
    Hpack.HpackException gone = assertThrows(Hpack.HpackException.class,
        () -> decoder.decode(hex("be")));
    assertTrue(gone.getMessage().contains("beyond the tables"), gone.getMessage());
    // 0x3f e1 1f = 5-bit prefix, 31 + 4065 = 4096 is fine; 4097 (3f e2 1f) is not
    decoder.decode(hex("3fe11f"));
    assertThrows(Hpack.HpackException.class, () -> decoder.decode(hex("3fe21f")));
  }

  @Test
  void badHuffmanStringsAreRefused() {
    byte[] eos = hex("ffff ffff");
    assertTrue(assertThrows(Hpack.HpackException.class, () -> Hpack.huffmanDecode(eos, 0, 4))
        .getMessage().contains("EOS"));
    byte[] zeroPadding = hex("00"); // '0' then three zero bits: padding must be ones
    assertTrue(assertThrows(Hpack.HpackException.class,
        () -> Hpack.huffmanDecode(zeroPadding, 0, 1)).getMessage().contains("padding"));
    byte[] longPadding = hex("ff"); // eight bits of padding
    assertTrue(assertThrows(Hpack.HpackException.class,
        () -> Hpack.huffmanDecode(longPadding, 0, 1)).getMessage().contains("padding"));
  }

  @Test
  void badBlocksAreRefusedNotMisread() {
    Hpack.Decoder decoder = new Hpack.Decoder(4096);
    assertThrows(Hpack.HpackException.class, () -> decoder.decode(hex("80"))); // index 0
    assertThrows(Hpack.HpackException.class, () -> decoder.decode(hex("c0"))); // index 64
    assertThrows(Hpack.HpackException.class, () -> decoder.decode(hex("0005 6162"))); // short
    assertThrows(Hpack.HpackException.class, () -> decoder.decode(hex("ff"))); // truncated int
    assertThrows(Hpack.HpackException.class,
        () -> decoder.decode(hex("ff ffff ffff ff0f"))); // integer overflow
  }
}
