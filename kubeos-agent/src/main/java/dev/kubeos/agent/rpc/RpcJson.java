package dev.kubeos.agent.rpc;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/** The JSON mapping used on the agent socket: records as they are, instants as ISO-8601 text. */
public final class RpcJson {

  private RpcJson() {}

  /** A new mapper for the agent's wire format (unknown properties are ignored). */
  public static ObjectMapper mapper() {
    SimpleModule instants = new SimpleModule("kubeos-rpc-instants");
    instants.addSerializer(
        Instant.class,
        new JsonSerializer<>() {
          @Override
          public void serialize(Instant value, JsonGenerator gen, SerializerProvider provider)
              throws IOException {
            gen.writeString(value.toString());
          }
        });
    instants.addDeserializer(
        Instant.class,
        new JsonDeserializer<>() {
          @Override
          public Instant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String text = p.getValueAsString();
            try {
              return text == null || text.isBlank() ? null : Instant.parse(text.trim());
            } catch (DateTimeParseException e) {
              return (Instant)
                  ctxt.handleWeirdStringValue(
                      Instant.class,
                      text,
                      "expected an ISO-8601 instant like 2024-05-01T12:00:00Z");
            }
          }
        });
    return new ObjectMapper()
        .registerModule(instants)
        .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  }
}
