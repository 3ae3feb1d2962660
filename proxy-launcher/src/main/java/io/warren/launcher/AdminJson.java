package io.warren.launcher;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * The admin API's JSON: records as objects with snake_case names ({@code connection_name}), addresses as
 * {@code host:port}, instants as ISO-8601 text. Shared by the daemon and {@code warren ctl}.
 */
final class AdminJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .registerModule(new SimpleModule("warren-admin")
                    .addSerializer(Instant.class, ToStringSerializer.instance)
                    .addSerializer(InetSocketAddress.class, new StdSerializer<>(InetSocketAddress.class) {
                        @Override
                        public void serialize(InetSocketAddress a, JsonGenerator g, SerializerProvider p)
                                throws IOException {
                            g.writeString(Values.formatAddress(a));
                        }
                    }));

    private AdminJson() {}

    static byte[] write(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(String text) throws JsonProcessingException {
        return MAPPER.readTree(text);
    }
}
