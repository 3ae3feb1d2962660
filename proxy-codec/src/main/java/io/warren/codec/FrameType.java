package io.warren.codec;

/** Frame type octets and framing constants of AMQP 0-9-1. */
public final class FrameType {
    public static final int METHOD = 1;
    public static final int HEADER = 2;
    public static final int BODY = 3;
    public static final int HEARTBEAT = 8;

    /** The octet that must close every frame. */
    public static final int FRAME_END = 0xCE;
    /** Bytes before the payload: type(1) channel(2) size(4). */
    public static final int HEADER_SIZE = 7;
    /** Bytes of a frame that are not payload: the header plus the end octet. */
    public static final int OVERHEAD = HEADER_SIZE + 1;
    /** The smallest frame_max a peer may negotiate (spec frame-min-size). */
    public static final int MIN_FRAME_MAX = 4096;

    private FrameType() {}

    /** Whether {@code type} is one of the four frame types of AMQP 0-9-1. */
    public static boolean isKnown(int type) {
        return type == METHOD || type == HEADER || type == BODY || type == HEARTBEAT;
    }
}
