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
    /** Frames of the message when it could not be kept inline in the session's output; null otherwise. */
    GrowableBuffer held;

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
        held = null;
    }
}
