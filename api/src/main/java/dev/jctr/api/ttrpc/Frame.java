package dev.jctr.api.ttrpc;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One ttrpc frame: a 10-byte header (payload length and stream id as big-endian uint32, message
 * type, flags) and the payload. Client streams have odd ids, increasing, never reused.
 */
public record Frame(int streamId, byte type, byte flags, byte[] payload) {

  public static final byte REQUEST = 0x01;
  public static final byte RESPONSE = 0x02;
  public static final byte DATA = 0x03;

  public static final byte FLAG_REMOTE_CLOSED = 0x01;
  public static final byte FLAG_REMOTE_OPEN = 0x02;
  public static final byte FLAG_NO_DATA = 0x04;

  /** The largest payload either side accepts: 4 MiB. */
  public static final int MAX_PAYLOAD = 4 << 20;
  static final int HEADER = 10;

  /** A frame whose payload was over {@link #MAX_PAYLOAD}: read past, not kept. */
  public static final class TooLargeException extends IOException {
    private final int streamId;
    private final long length;

    TooLargeException(int streamId, long length) {
      super("ttrpc message of " + length + " bytes on stream " + streamId + " is over the "
          + MAX_PAYLOAD + " allowed");
      this.streamId = streamId;
      this.length = length;
    }

    public int streamId() {
      return streamId;
    }

    public long length() {
      return length;
    }
  }

  /** The header and payload as sent. */
  public byte[] encode() {
    if (payload.length > MAX_PAYLOAD) {
      throw new IllegalArgumentException("ttrpc message of " + payload.length
          + " bytes is over the " + MAX_PAYLOAD + " allowed");
    }
    byte[] bytes = new byte[HEADER + payload.length];
    putInt(bytes, 0, payload.length);
    putInt(bytes, 4, streamId);
    bytes[8] = type;
    bytes[9] = flags;
    System.arraycopy(payload, 0, bytes, HEADER, payload.length);
    return bytes;
  }

  public void writeTo(OutputStream out) throws IOException {
    out.write(encode());
  }

  /**
   * Reads one frame; null at a clean end of stream (before a header).
   *
   * @throws TooLargeException for an oversized payload, after skipping it: the stream stays
   *     usable
   */
  public static Frame read(InputStream in) throws IOException {
    byte[] header = new byte[HEADER];
    int got = in.readNBytes(header, 0, HEADER);
    if (got == 0) {
      return null;
    }
    if (got < HEADER) {
      throw new EOFException("ttrpc header cut short after " + got + " bytes");
    }
    long length = Integer.toUnsignedLong(getInt(header, 0));
    int streamId = getInt(header, 4);
    if (length > MAX_PAYLOAD) {
      long left = length;
      while (left > 0) {
        long skipped = in.skip(left);
        if (skipped <= 0) {
          if (in.read() < 0) {
            throw new EOFException("ttrpc payload cut short");
          }
          skipped = 1;
        }
        left -= skipped;
      }
      throw new TooLargeException(streamId, length);
    }
    byte[] payload = in.readNBytes((int) length);
    if (payload.length < length) {
      throw new EOFException("ttrpc payload cut short: " + payload.length + " of " + length
          + " bytes");
    }
    return new Frame(streamId, header[8], header[9], payload);
  }

  private static void putInt(byte[] bytes, int at, int value) {
    bytes[at] = (byte) (value >>> 24);
    bytes[at + 1] = (byte) (value >>> 16);
    bytes[at + 2] = (byte) (value >>> 8);
    bytes[at + 3] = (byte) value;
  }

  private static int getInt(byte[] bytes, int at) {
    return (bytes[at] & 0xff) << 24 | (bytes[at + 1] & 0xff) << 16 | (bytes[at + 2] & 0xff) << 8
        | (bytes[at + 3] & 0xff);
  }
}
