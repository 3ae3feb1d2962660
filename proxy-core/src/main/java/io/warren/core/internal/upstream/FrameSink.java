package io.warren.core.internal.upstream;

import java.nio.ByteBuffer;

/**
 * Where frames for the broker go: gathered into the output of the client that is handing a channel over (so they
 * follow what it sent, in one write), or sent at once.
 */
@FunctionalInterface
public interface FrameSink {
    /** Sends each frame at once. */
    FrameSink DIRECT = UpstreamConnection::sendFrame;

    /** Queues one whole frame for {@code upstream}. */
    void append(UpstreamConnection upstream, ByteBuffer frame);
}
