package dev.jctr.events.grpc;

import com.google.protobuf.Empty;
import dev.jctr.api.events.EventExchange;
import dev.jctr.api.proto.containerd.services.events.ttrpc.v1.ForwardRequest;
import dev.jctr.api.ttrpc.TtrpcServer;
import dev.jctr.api.ttrpc.TtrpcService;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code containerd.services.events.ttrpc.v1.Events} on the daemon's ttrpc socket: shims
 * forward their {@code /tasks/*} envelopes here, into the event exchange as they are.
 */
@Component(service = TtrpcService.class)
public final class EventsTtrpcService implements TtrpcService {

  private final EventExchange exchange;

  @Activate
  public EventsTtrpcService(@Reference EventExchange exchange) {
    this.exchange = exchange;
  }

  @Override
  public String name() {
    return "containerd.services.events.ttrpc.v1.Events";
  }

  @Override
  public Map<String, TtrpcServer.Method> methods() {
    return Map.of("Forward", (payload, metadata) -> {
      exchange.forward(ForwardRequest.parseFrom(payload).getEnvelope());
      return Empty.getDefaultInstance().toByteArray();
    });
  }
}
