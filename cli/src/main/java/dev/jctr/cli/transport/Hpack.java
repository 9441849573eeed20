package dev.jctr.cli.transport;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * HPACK (RFC 7541), the parts a gRPC client needs: a complete decoder (static and dynamic
 * tables, Huffman strings) for the server's headers and trailers, and an encoder that writes
 * every field as a plain literal, never indexed, which any server must accept.
 */
final class Hpack {

  /** RFC 7541 Appendix A, index 1 to 61; entries without a value have "". */
  private static final String[][] STATIC_TABLE = {
      {":authority", ""}, {":method", "GET"}, {":method", "POST"}, {":path", "/"},
      {":path", "/index.html"}, {":scheme", "http"}, {":scheme", "https"}, {":status", "200"},
      {":status", "204"}, {":status", "206"}, {":status", "304"}, {":status", "400"},
      {":status", "404"}, {":status", "500"}, {"accept-charset", ""},
      {"accept-encoding", "gzip, deflate"}, {"accept-language", ""}, {"accept-ranges", ""},
      {"accept", ""}, {"access-control-allow-origin", ""}, {"age", ""}, {"allow", ""},
      {"authorization", ""}, {"cache-control", ""}, {"content-disposition", ""},
      {"content-encoding", ""}, {"content-language", ""}, {"content-length", ""},
      {"content-location", ""}, {"content-range", ""}, {"content-type", ""}, {"cookie", ""},
      {"date", ""}, {"etag", ""}, {"expect", ""}, {"expires", ""}, {"from", ""}, {"host", ""},
      {"if-match", ""}, {"if-modified-since", ""}, {"if-none-match", ""}, {"if-range", ""},
      {"if-unmodified-since", ""}, {"last-modified", ""}, {"link", ""}, {"location", ""},
      {"max-forwards", ""}, {"proxy-authenticate", ""}, {"proxy-authorization", ""},
      {"range", ""}, {"referer", ""}, {"refresh", ""}, {"retry-after", ""}, {"server", ""},
      {"set-cookie", ""}, {"strict-transport-security", ""}, {"transfer-encoding", ""},
      {"user-agent", ""}, {"vary", ""}, {"via", ""}, {"www-authenticate", ""}};

  /**
   * RFC 7541 Appendix B as code lengths for symbols 0 to 256 (EOS). The code is canonical:
   * codes are assigned in order of (length, symbol), so the lengths define it completely.
   */
  private static final byte[] HUFFMAN_LENGTHS = {
      13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28,
      30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
      6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7,
      8, 15, 6, 12, 10,
      13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19,
      13, 14, 6,
      15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11,
      14, 13, 28,
      20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23,
      23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
      22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22,
      23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
      26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26,
      27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
      20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27,
      27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
      30};

  private static final int EOS = 256;
  private static final int MAX_CODE_LENGTH = 30;

  /** Canonical decoding tables: per length, the first code, and where its symbols start. */
  private static final int[] FIRST_CODE = new int[MAX_CODE_LENGTH + 2];
  private static final int[] COUNT = new int[MAX_CODE_LENGTH + 2];
  private static final int[] OFFSET = new int[MAX_CODE_LENGTH + 2];
  private static final int[] SYMBOLS = new int[HUFFMAN_LENGTHS.length];

  static {
    for (byte length : HUFFMAN_LENGTHS) {
      COUNT[length]++;
    }
    int code = 0;
    int offset = 0;
    for (int length = 1; length <= MAX_CODE_LENGTH; length++) {
      code = (code + COUNT[length - 1]) << 1;
      FIRST_CODE[length] = code;
      OFFSET[length] = offset;
      offset += COUNT[length];
    }
    int[] next = OFFSET.clone();
    for (int symbol = 0; symbol < HUFFMAN_LENGTHS.length; symbol++) {
      SYMBOLS[next[HUFFMAN_LENGTHS[symbol]]++] = symbol;
    }
  }

  private Hpack() {}

  /** Encodes fields as "literal header field without indexing, new name", no Huffman. */
  static byte[] encode(List<Map.Entry<String, String>> fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Map.Entry<String, String> field : fields) {
      out.write(0);
      writeString(out, field.getKey());
      writeString(out, field.getValue());
    }
    return out.toByteArray();
  }

  private static void writeString(ByteArrayOutputStream out, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.ISO_8859_1);
    writeInteger(out, 0, 7, bytes.length);
    out.writeBytes(bytes);
  }

  static void writeInteger(ByteArrayOutputStream out, int firstByteBits, int prefixBits,
      int value) {
    int max = (1 << prefixBits) - 1;
    if (value < max) {
      out.write(firstByteBits | value);
      return;
    }
    out.write(firstByteBits | max);
    value -= max;
    while (value >= 128) {
      out.write((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    out.write(value);
  }

  /** Decodes Huffman-coded {@code bytes} (RFC 7541 section 5.2). */
  static String huffmanDecode(byte[] bytes, int from, int to) {
    StringBuilder out = new StringBuilder();
    int code = 0;
    int length = 0;
    for (int i = from; i < to; i++) {
      for (int bit = 7; bit >= 0; bit--) {
        code = (code << 1) | ((bytes[i] >> bit) & 1);
        length++;
        int index = code - FIRST_CODE[length];
        if (index >= 0 && index < COUNT[length]) {
          int symbol = SYMBOLS[OFFSET[length] + index];
          if (symbol == EOS) {
            throw new HpackException("Huffman string contains EOS");
          }
          out.append((char) symbol);
          code = 0;
          length = 0;
        } else if (length > MAX_CODE_LENGTH) {
          throw new HpackException("invalid Huffman code");
        }
      }
    }
    // what remains must be padding: fewer than 8 bits, all ones (a prefix of EOS)
    if (length > 7 || code != (1 << length) - 1) {
      throw new HpackException("invalid Huffman padding");
    }
    return out.toString();
  }

  /** A header block that cannot be decoded; the connection is unusable afterwards. */
  static final class HpackException extends RuntimeException {
    HpackException(String message) {
      super("HPACK: " + message);
    }
  }

  /** The decoding side of one connection: the dynamic table lives as long as it does. */
  static final class Decoder {

    private final Deque<String[]> dynamic = new ArrayDeque<>();
    private final int maxAllowedSize;
    private int maxSize;
    private int size;

    Decoder(int tableSize) {
      this.maxAllowedSize = tableSize;
      this.maxSize = tableSize;
    }

    /** The fields of one complete header block, in order. */
    List<Map.Entry<String, String>> decode(byte[] block) {
      List<Map.Entry<String, String>> fields = new ArrayList<>();
      int[] at = {0};
      while (at[0] < block.length) {
        int first = block[at[0]] & 0xff;
        if ((first & 0x80) != 0) {
          String[] entry = entry(readInteger(block, at, 7));
          fields.add(Map.entry(entry[0], entry[1]));
        } else if ((first & 0x40) != 0) {
          int index = readInteger(block, at, 6);
          String name = index == 0 ? readString(block, at) : entry(index)[0];
          String value = readString(block, at);
          add(name, value);
          fields.add(Map.entry(name, value));
        } else if ((first & 0x20) != 0) {
          int newSize = readInteger(block, at, 5);
          if (newSize > maxAllowedSize) {
            throw new HpackException("table size " + newSize + " above " + maxAllowedSize);
          }
          maxSize = newSize;
          evict();
        } else {
          // literal without indexing (0000) or never indexed (0001): same layout
          int index = readInteger(block, at, 4);
          String name = index == 0 ? readString(block, at) : entry(index)[0];
          fields.add(Map.entry(name, readString(block, at)));
        }
      }
      return fields;
    }

    private String[] entry(int index) {
      if (index <= 0) {
        throw new HpackException("index 0");
      }
      if (index <= STATIC_TABLE.length) {
        return STATIC_TABLE[index - 1];
      }
      int dynamicIndex = index - STATIC_TABLE.length - 1;
      if (dynamicIndex >= dynamic.size()) {
        throw new HpackException("index " + index + " beyond the tables");
      }
      int i = 0;
      for (String[] entry : dynamic) { // newest first
        if (i++ == dynamicIndex) {
          return entry;
        }
      }
      throw new IllegalStateException();
    }

    private void add(String name, String value) {
      int entrySize = name.length() + value.length() + 32;
      if (entrySize > maxSize) {
        dynamic.clear();
        size = 0;
        return;
      }
      dynamic.addFirst(new String[] {name, value});
      size += entrySize;
      evict();
    }

    private void evict() {
      while (size > maxSize) {
        String[] oldest = dynamic.removeLast();
        size -= oldest[0].length() + oldest[1].length() + 32;
      }
    }

    private static int readInteger(byte[] block, int[] at, int prefixBits) {
      int max = (1 << prefixBits) - 1;
      int value = block[at[0]++] & max;
      if (value < max) {
        return value;
      }
      int shift = 0;
      while (true) {
        if (at[0] >= block.length) {
          throw new HpackException("truncated integer");
        }
        int b = block[at[0]++] & 0xff;
        value += (b & 0x7f) << shift;
        if (value < 0 || shift > 28) {
          throw new HpackException("integer overflow");
        }
        if ((b & 0x80) == 0) {
          return value;
        }
        shift += 7;
      }
    }

    private static String readString(byte[] block, int[] at) {
      if (at[0] >= block.length) {
        throw new HpackException("truncated string");
      }
      boolean huffman = (block[at[0]] & 0x80) != 0;
      int length = readInteger(block, at, 7);
      if (length > block.length - at[0]) {
        throw new HpackException("string beyond the block");
      }
      int from = at[0];
      at[0] += length;
      return huffman ? huffmanDecode(block, from, from + length)
          : new String(block, from, length, StandardCharsets.ISO_8859_1);
    }
  }
}
