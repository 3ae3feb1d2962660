package io.warren.codec;

import java.util.List;

/**
 * Static description of one method, for tests and diagnostics.
 *
 * @param className   spec class name, e.g. {@code basic}
 * @param name        spec method name within the class, e.g. {@code publish}
 * @param fields      arguments in wire order
 * @param hasContent  whether content frames follow
 * @param synchronous whether the spec marks the method synchronous (it expects a reply)
 */
public record MethodInfo(int classId, String className, int methodId, String name, List<Field> fields,
                         boolean hasContent, boolean synchronous) {

    public MethodInfo {
        fields = List.copyOf(fields);
    }

    /** {@code class.method}, as {@link AmqpMethod#name()} returns it. */
    public String fullName() {
        return className + "." + name;
    }

    /**
     * One argument.
     *
     * @param name      spec argument name, e.g. {@code routing-key}
     * @param type      resolved AMQP type: octet, short, long, longlong, bit, shortstr, longstr, table, timestamp
     * @param component the record component holding it, e.g. {@code routingKey}
     */
    public record Field(String name, String type, String component) {}
}
