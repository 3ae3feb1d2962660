package io.warren.core.internal.client;

import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.LongString;
import io.warren.core.internal.wire.Frames;
import io.warren.core.internal.wire.PeerProperties;
import io.warren.core.internal.wire.Sasl;
import java.nio.ByteBuffer;

/**
 * connection.start as a frame, encoded once per set of broker capabilities rather than once per client: the
 * server-properties table is most of its cost. Thread-safe: the encoded buffer is never written or moved after it
 * is published; each caller gets its own read-only view, whose position the transport may move freely.
 */
final class StartFrame {
    /** The frame as last encoded, and the broker capabilities (by identity) it was encoded from. */
    private volatile Encoded encoded = encode(null);

    private record Encoded(FieldTable brokerCapabilities, ByteBuffer frame) {}

    /**
     * The frame for {@code brokerCapabilities} (null: none learned yet), re-encoded when they are not the ones of the
     * last call: the cluster replaces its table at each upstream handshake, so a change is seen at the next client.
     */
    ByteBuffer frameFor(FieldTable brokerCapabilities) {
        Encoded current = encoded;
        if (current.brokerCapabilities() != brokerCapabilities) {
            current = encode(brokerCapabilities);
            encoded = current; // a race between two loops only encodes twice
        }
        return current.frame().duplicate(); // a duplicate of a read-only buffer is read-only
    }

    private static Encoded encode(FieldTable brokerCapabilities) {
        ConnectionMethod.Start start = new ConnectionMethod.Start(0, 9, PeerProperties.asServer(brokerCapabilities),
                LongString.of(Sasl.MECHANISMS), LongString.of("en_US"));
        return new Encoded(brokerCapabilities, Frames.method(0, start).asReadOnlyBuffer());
    }
}
