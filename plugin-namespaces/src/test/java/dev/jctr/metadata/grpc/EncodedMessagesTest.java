package dev.jctr.metadata.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.jctr.api.proto.containerd.services.containers.v1.Container;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainerMessage;
import dev.jctr.api.proto.containerd.services.containers.v1.ListContainersResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EncodedMessagesTest {

  private static Container container(int i, int labelSize) {
    return Container.newBuilder().setId("c" + i).setImage("img")
        .putLabels("k", "v".repeat(labelSize))
        .setSpec(Any.newBuilder().setTypeUrl("t").setValue(ByteString.copyFromUtf8("{}")))
        .build();
  }

  @Test
  void aListingFromRecordsIsByteForByteWhatProtobufWrites() throws Exception {
    List<Container> containers = new ArrayList<>();
    List<byte[]> records = new ArrayList<>();
    // sizes across the one- and two-byte varint length boundary, and an empty listing
    for (int size : new int[] {0, 1, 100, 127, 128, 300, 20_000}) {
      Container c = container(containers.size(), size);
      containers.add(c);
      records.add(c.toByteArray());
    }
    byte[] encoded = EncodedMessages.repeated(ListContainersResponse.CONTAINERS_FIELD_NUMBER,
        records);
    ListContainersResponse expected = ListContainersResponse.newBuilder()
        .addAllContainers(containers).build();
    assertArrayEquals(expected.toByteArray(), encoded);
    assertEquals(expected, ListContainersResponse.parseFrom(encoded));
    assertEquals(0, EncodedMessages.repeated(1, List.of()).length);
    assertEquals(ListContainerMessage.newBuilder().setContainer(containers.get(3)).build(),
        ListContainerMessage.parseFrom(EncodedMessages.repeated(
            ListContainerMessage.CONTAINER_FIELD_NUMBER, List.of(records.get(3)))));
  }
}
