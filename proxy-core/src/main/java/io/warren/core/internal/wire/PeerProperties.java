package io.warren.core.internal.wire;

import io.warren.codec.FieldTable;
import io.warren.codec.FieldValue;
import io.warren.codec.LongString;
import java.util.List;

/**
 * What Warren says of itself in an AMQP handshake: its product properties and capabilities, as a server to clients
 * (connection.start) and as a client to the broker (connection.start-ok). Stateless.
 */
public final class PeerProperties {
    /** Warren's version, from the jar manifest ({@code dev} when run from classes). */
    public static final String VERSION = versionOf();

    /** The capabilities Warren relays: asked of the broker, advertised to a client when the broker has them too. */
    private static final List<String> RELAYED_CAPABILITIES = List.of(
            "publisher_confirms", "exchange_exchange_bindings", "basic.nack", "consumer_cancel_notify",
            "connection.blocked", "authentication_failure_close", "per_consumer_qos", "direct_reply_to");

    private PeerProperties() {}

    /**
     * Server properties for clients: the relayed capabilities the broker has.
     *
     * @param brokerCapabilities the capabilities the broker advertised at the last upstream handshake, or null
     *     before any (then all are advertised)
     */
    public static FieldTable asServer(FieldTable brokerCapabilities) {
        FieldTable.Builder caps = FieldTable.builder();
        for (String name : RELAYED_CAPABILITIES) {
            if (brokerCapabilities == null || brokerCapabilities.getBoolean(name, false)) {
                caps.put(name, new FieldValue.Bool(true));
            }
        }
        return product().put("capabilities", new FieldValue.Table(caps.build())).build();
    }

    /**
     * Client properties for the broker: every relayed capability, and a connection name the broker's management
     * UI shows ({@code warren}, or {@code warren: NAME} after the client whose login opened the connection).
     */
    public static FieldTable asClient(String clientConnectionName) {
        FieldTable.Builder caps = FieldTable.builder();
        for (String name : RELAYED_CAPABILITIES) {
            caps.put(name, new FieldValue.Bool(true));
        }
        String name = clientConnectionName == null ? "warren" : "warren: " + clientConnectionName;
        return product().put("capabilities", new FieldValue.Table(caps.build()))
                .put("connection_name", LongString.of(Frames.truncate(name))).build();
    }

    private static FieldTable.Builder product() {
        return FieldTable.builder()
                .put("product", LongString.of("Warren"))
                .put("version", LongString.of(VERSION))
                .put("platform", LongString.of("Java " + Runtime.version().feature()))
                .put("information", LongString.of("AMQP 0-9-1 proxy"));
    }

    private static String versionOf() {
        String v = PeerProperties.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
