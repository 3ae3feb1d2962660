package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Checks the codec's method table and records against RabbitMQ's machine-readable AMQP 0-9-1 spec. */
class SpecTest {
    private static final Map<String, Class<?>> JAVA_TYPES = Map.of("octet", int.class, "short", int.class,
            "long", long.class, "longlong", long.class, "bit", boolean.class, "shortstr", String.class,
            "longstr", LongString.class, "table", FieldTable.class, "timestamp", long.class);

    @SuppressWarnings("unchecked")
    private static List<MethodInfo> specMethods() throws IOException {
        String text;
        try (InputStream in = SpecTest.class.getResourceAsStream("/amqp-rabbitmq-0.9.1.json")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<String, Object> spec = (Map<String, Object>) new com.fasterxml.jackson.databind.ObjectMapper().readValue(text, Map.class);
        Map<String, String> domains = new HashMap<>();
        for (Object d : (List<Object>) spec.get("domains")) {
            List<Object> pair = (List<Object>) d;
            domains.put((String) pair.get(0), (String) pair.get(1));
        }
        List<MethodInfo> out = new ArrayList<>();
        for (Object co : (List<Object>) spec.get("classes")) {
            Map<String, Object> c = (Map<String, Object>) co;
            for (Object mo : (List<Object>) c.get("methods")) {
                Map<String, Object> m = (Map<String, Object>) mo;
                List<MethodInfo.Field> fields = new ArrayList<>();
                for (Object ao : (List<Object>) m.get("arguments")) {
                    Map<String, Object> a = (Map<String, Object>) ao;
                    String type = a.containsKey("type") ? (String) a.get("type") : domains.get((String) a.get("domain"));
                    assertThat(type).as("domain of %s", a).isNotNull();
                    // The component name is the codec's choice; compared separately below.
                    fields.add(new MethodInfo.Field((String) a.get("name"), type, ""));
                }
                out.add(new MethodInfo(((Number) c.get("id")).intValue(), (String) c.get("name"),
                        ((Number) m.get("id")).intValue(), (String) m.get("name"), fields,
                        Boolean.TRUE.equals(m.get("content")), Boolean.TRUE.equals(m.get("synchronous"))));
            }
        }
        return out;
    }

    private static MethodInfo withoutComponents(MethodInfo m) {
        List<MethodInfo.Field> f = m.fields().stream().map(x -> new MethodInfo.Field(x.name(), x.type(), "")).toList();
        return new MethodInfo(m.classId(), m.className(), m.methodId(), m.name(), f, m.hasContent(), m.synchronous());
    }

    @Test
    void methodTableMatchesTheSpecExactly() throws IOException {
        List<MethodInfo> spec = specMethods();
        List<MethodInfo> ours = MethodCodec.methodTable().stream().map(SpecTest::withoutComponents).toList();
        assertThat(spec).hasSize(66);
        // Same set (ids, names, field names/types/order, content, synchronous), nothing extra.
        assertThat(ours).containsExactlyInAnyOrderElementsOf(spec);
    }

    @Test
    void everyMethodHasARecordWhoseComponentsFollowTheTable() {
        Map<Integer, Class<?>> records = Gen.methodClasses();
        assertThat(records).hasSize(66);
        for (MethodInfo info : MethodCodec.methodTable()) {
            Class<?> rec = Gen.recordFor(info);
            assertThat(rec).as(info.fullName()).isNotNull();
            assertThat(rec.isRecord()).isTrue();
            String upperCamel = upperCamel(info.name());
            assertThat(rec.getSimpleName()).isEqualTo(upperCamel);
            RecordComponent[] comps = rec.getRecordComponents();
            assertThat(comps).as(info.fullName()).hasSize(info.fields().size());
            for (int i = 0; i < comps.length; i++) {
                MethodInfo.Field f = info.fields().get(i);
                assertThat(comps[i].getName()).as(info.fullName()).isEqualTo(f.component());
                assertThat(comps[i].getType()).as(info.fullName() + "." + f.name()).isEqualTo(JAVA_TYPES.get(f.type()));
                // camelCase of the spec name, except the two renamed to avoid AmqpMethod.classId()/methodId().
                String expected = switch (f.name()) {
                    case "class-id" -> "failingClassId";
                    case "method-id" -> "failingMethodId";
                    default -> lowerCamel(f.name());
                };
                assertThat(f.component()).isEqualTo(expected);
            }
        }
    }

    @Test
    void recordsReportTheirIdsNameAndContentFlag() {
        for (MethodInfo info : MethodCodec.methodTable()) {
            AmqpMethod m = Gen.method(info).next(new SplittableRandom(info.fullName().hashCode()));
            assertThat(m.classId()).isEqualTo(info.classId());
            assertThat(m.methodId()).isEqualTo(info.methodId());
            assertThat(m.name()).isEqualTo(info.fullName());
            assertThat(m.hasContent()).isEqualTo(info.hasContent());
        }
    }

    private static String lowerCamel(String spec) {
        String u = upperCamel(spec);
        return Character.toLowerCase(u.charAt(0)) + u.substring(1);
    }

    private static String upperCamel(String spec) {
        StringBuilder b = new StringBuilder();
        for (String p : spec.split("-")) {
            b.append(Character.toUpperCase(p.charAt(0))).append(p.substring(1));
        }
        return b.toString();
    }
}
