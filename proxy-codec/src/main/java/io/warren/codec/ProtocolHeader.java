package io.warren.codec;

import java.nio.ByteBuffer;

/** The 8-octet protocol header a client sends first: {@code "AMQP" 0 0 9 1}. */
public final class ProtocolHeader {
    /** The AMQP 0-9-1 protocol header. Treat as read-only. */
    public static final byte[] AMQP_0_9_1 = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    /** Its length. */
    public static final int LENGTH = 8;

    /** Outcome of {@link #check}. */
    public enum Match {
        /** Every byte so far matches, but fewer than 8 are available. */
        NEED_MORE,
        /** The 8 bytes are the AMQP 0-9-1 header. */
        MATCH,
        /** Some byte differs: answer with {@link #AMQP_0_9_1} and close, as the spec requires. */
        MISMATCH
    }

    private ProtocolHeader() {}

    /**
     * Compares the bytes from {@code in.position()} with the header without consuming them. A mismatch is
     * reported as soon as one differing byte is seen, so a non-AMQP client is refused without waiting.
     */
    public static Match check(ByteBuffer in) {
        int n = Math.min(in.remaining(), LENGTH);
        int p = in.position();
        for (int i = 0; i < n; i++) {
            if (in.get(p + i) != AMQP_0_9_1[i]) {
                return Match.MISMATCH;
            }
        }
        return n == LENGTH ? Match.MATCH : Match.NEED_MORE;
    }
}
