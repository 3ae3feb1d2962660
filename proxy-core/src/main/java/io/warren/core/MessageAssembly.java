package io.warren.core;

/**
 * Tracks one channel's content sequence (method, header, bodies) as the client sends it. A message goes upstream
 * only when its last body frame has arrived, so a client that vanishes mid-message never routes part of one, and
 * RabbitMQ never sees a content sequence interrupted by a channel.close (which it answers with a connection error).
 */
final class MessageAssembly {
    enum Phase { IDLE, EXPECT_HEADER, EXPECT_BODY }

    Phase phase = Phase.IDLE;
    int contentClass;
    long remainingBody;
    /**
     * The method frame (upstream channel number) of a message that left the session's output before its header
     * arrived; a few hundred bytes at most. Null otherwise.
     */
    java.nio.ByteBuffer pendingMethod;
    /** The message, once it is held in its exact-size layout until its last frame (with its reservation). */
    HeldMessage held;
    /** When the held message began or last got body bytes (System.nanoTime). */
    long heldProgressNanos;

    boolean inProgress() {
        return phase != Phase.IDLE;
    }

    void begin(int classId) {
        phase = Phase.EXPECT_HEADER;
        contentClass = classId;
        remainingBody = 0;
    }

    void reset() {
        phase = Phase.IDLE;
        remainingBody = 0;
        pendingMethod = null;
        if (held != null) {
            held.release(); // every path that drops or completes a held message returns its bytes
            held = null;
        }
    }
}
