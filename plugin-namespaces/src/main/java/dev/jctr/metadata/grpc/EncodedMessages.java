package dev.jctr.metadata.grpc;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/** Responses written straight from stored protobuf records, without decoding them first. */
final class EncodedMessages {

  private EncodedMessages() {}

  /** {@code method} with its responses given as their encoded bytes. */
  static <Q, R> MethodDescriptor<Q, byte[]> sendsBytes(MethodDescriptor<Q, R> method) {
    return method.toBuilder(method.getRequestMarshaller(), new BytesMarshaller()).build();
  }

  /**
   * The encoding of a message whose only content is {@code records} in the repeated
   * message field {@code field}, in order; each record must be a valid encoding of that
   * field's message type.
   */
  static byte[] repeated(int field, List<byte[]> records) {
    int tag = (field << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    int size = 0;
    for (byte[] record : records) {
      size += CodedOutputStream.computeUInt32SizeNoTag(tag)
          + CodedOutputStream.computeUInt32SizeNoTag(record.length) + record.length;
    }
    byte[] message = new byte[size];
    CodedOutputStream out = CodedOutputStream.newInstance(message);
    try {
      for (byte[] record : records) {
        out.writeUInt32NoTag(tag);
        out.writeUInt32NoTag(record.length);
        out.writeRawBytes(record);
      }
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException("sized the message wrongly", e);
    }
    return message;
  }

  /** Bytes whose length grpc can see, so that it frames them without copying to a buffer. */
  private static final class KnownLengthBytes extends ByteArrayInputStream
      implements KnownLength {
    KnownLengthBytes(byte[] bytes) {
      super(bytes);
    }
  }

  private static final class BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new KnownLengthBytes(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
