package io.warren.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads rabbitmqctl's {@code --formatter json} output: an array of flat objects, or one object. */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    /** Parses one JSON value, e.g. the object {@code rabbitmqctl cluster_status --formatter json} prints. */
    static JsonNode parse(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON from rabbitmqctl: " + text, e);
        }
    }

    /** Parses {@code [ {k: v, ...}, ... ]}; strings as is, other values as their JSON text. */
    static List<Map<String, String>> parseRows(String text) {
        List<Map<String, String>> rows = new ArrayList<>();
        if (text.isBlank()) {
            return rows;
        }
        try {
            for (JsonNode object : MAPPER.readTree(text)) {
                Map<String, String> row = new LinkedHashMap<>();
                object.fields().forEachRemaining(e ->
                        row.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
                rows.add(row);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON from rabbitmqctl: " + text, e);
        }
        return rows;
    }
}
