package io.warren.codec;

import java.nio.ByteBuffer;

/**
 * Splits a byte stream into frames, for one connection direction, on one thread.
 *
 * <p>Zero-copy when a frame lies wholly in the input: the returned payload is a slice of {@code in}, valid
 * until the caller reuses {@code in}. When a frame's payload is split across reads, the bytes available are
 * copied once into an assembly buffer sized exactly to that payload (plus its end octet), after the declared
 * size has been checked against {@link #maxFrameSize()}; the buffer is dropped when the frame is returned, so
 * an idle decoder holds no buffer. A partial 7-byte header is kept in two fields, not in a buffer.
 *
 * <p>Reply codes follow RabbitMQ's rabbit_reader: over frame_max, bad end octet, unknown frame type, a
 * heartbeat with a payload, a method frame under 4 bytes or a header frame under 12 bytes are FRAME_ERROR;
 * a heartbeat on a channel other than 0 is UNEXPECTED_FRAME. After a ProtocolException the stream cannot be
 * resynchronised: the decoder refuses further input (IllegalStateException) and the connection must close.
 */
public final class FrameDecoder {
    private int maxFrameSize;

    // Partial frame header: up to 7 bytes accumulated big-endian in headerBits.
    private long headerBits;
    private int headerBytes;

    // Frame in progress once its header is complete (frameSize >= 0).
    private int frameType;
    private int frameChannel;
    private int frameSize = -1;
    /** Payload plus end octet of a split frame; null whenever no split payload is being assembled. */
    private ByteBuffer assembly;

    private boolean failed;
    /** Largest assembly buffer allocated so far; lets tests check the frame_max guard without reflection. */
    private int largestAllocation;

    /**
     * @param maxFrameSize the negotiated frame_max: the whole frame including its 8 bytes of overhead.
     *     There is no "unlimited": pass a concrete cap of at least {@link FrameType#MIN_FRAME_MAX}.
     */
    public FrameDecoder(int maxFrameSize) {
        setMaxFrameSize(maxFrameSize);
    }

    /** Changes the cap, e.g. after connection.tune-ok; a frame already being assembled was checked against the old one. */
    public void setMaxFrameSize(int maxFrameSize) {
        if (maxFrameSize < FrameType.MIN_FRAME_MAX) {
            throw new IllegalArgumentException("maxFrameSize must be at least " + FrameType.MIN_FRAME_MAX + ": "
                    + maxFrameSize);
        }
        this.maxFrameSize = maxFrameSize;
    }

    public int maxFrameSize() {
        return maxFrameSize;
    }

    /** Whether bytes of an incomplete frame are held (so the peer stopped mid-frame). */
    public boolean hasPartialFrame() {
        return headerBytes > 0 || frameSize >= 0;
    }

    int largestAllocation() {
        return largestAllocation;
    }

    /** Whether an assembly buffer is held right now (only while a split payload is incomplete). */
    boolean holdsAssemblyBuffer() {
        return assembly != null;
    }

    /** Whether a frame error ended this decoder: the stream's framing is lost, nothing after it can be read. */
    public boolean failed() {
        return failed;
    }

    /**
     * Returns the next complete frame, or null when {@code in} holds no more complete frame; consumed bytes are
     * skipped by advancing {@code in}'s position (all of {@code in} is consumed when null is returned).
     */
    public Frame next(ByteBuffer in) throws ProtocolException {
        if (failed) {
            throw new IllegalStateException("decoder failed earlier; the connection must be closed");
        }
        try {
            return decode(in);
        } catch (ProtocolException e) {
            failed = true;
            assembly = null;
            throw e;
        }
    }

    private Frame decode(ByteBuffer in) throws ProtocolException {
        if (frameSize < 0) {
            if (headerBytes == 0 && in.remaining() >= FrameType.HEADER_SIZE) {
                int p = in.position();
                startFrame(FramePeek.type(in, p), FramePeek.channel(in, p),
                        Integer.toUnsignedLong(FramePeek.payloadSize(in, p)));
                in.position(p + FrameType.HEADER_SIZE);
            } else {
                while (headerBytes < FrameType.HEADER_SIZE && in.hasRemaining()) {
                    headerBits = (headerBits << 8) | (in.get() & 0xFF);
                    headerBytes++;
                }
                if (headerBytes < FrameType.HEADER_SIZE) {
                    return null;
                }
                long h = headerBits;
                headerBits = 0;
                headerBytes = 0;
                startFrame((int) (h >>> 48) & 0xFF, (int) (h >>> 32) & 0xFFFF, h & 0xFFFF_FFFFL);
            }
        }
        if (assembly == null) {
            if (in.remaining() > frameSize) {
                // Whole payload and end octet are in the input: hand out a view, no copy.
                int p = in.position();
                int end = in.get(p + frameSize) & 0xFF;
                ByteBuffer payload = in.slice(p, frameSize);
                in.position(p + frameSize + 1);
                return finishFrame(payload, end);
            }
            largestAllocation = Math.max(largestAllocation, frameSize + 1);
            assembly = ByteBuffer.allocate(frameSize + 1);
        }
        int n = Math.min(assembly.remaining(), in.remaining());
        assembly.put(assembly.position(), in, in.position(), n);
        assembly.position(assembly.position() + n);
        in.position(in.position() + n);
        if (assembly.hasRemaining()) {
            return null;
        }
        int end = assembly.get(frameSize) & 0xFF;
        ByteBuffer payload = assembly.flip().limit(frameSize);
        assembly = null;
        return finishFrame(payload, end);
    }

    /** Checks a complete header before anything is allocated for the payload. */
    private void startFrame(int type, int channel, long size) throws ProtocolException {
        if (size > maxFrameSize - FrameType.OVERHEAD) {
            // rabbit_reader: {frame_too_large, ...} -> fatal_frame_error -> frame_error (501)
            throw new ProtocolException(ReplyCode.FRAME_ERROR, "type " + type + ", channel " + channel + ": payload of "
                    + size + " bytes exceeds frame_max " + maxFrameSize);
        }
        if (!FrameType.isKnown(type)) {
            // rabbit_reader handle_frame: analyze_frame returns error -> frame_error(unknown_frame) (501)
            throw new ProtocolException(ReplyCode.FRAME_ERROR, "unknown frame type " + type + " on channel " + channel);
        }
        frameType = type;
        frameChannel = channel;
        frameSize = (int) size;
    }

    private Frame finishFrame(ByteBuffer payload, int end) throws ProtocolException {
        int type = frameType;
        int channel = frameChannel;
        int size = frameSize;
        frameSize = -1;
        if (end != FrameType.FRAME_END) {
            // rabbit_reader: {invalid_frame_end_marker, EndMarker} -> fatal_frame_error (501)
            throw new ProtocolException(ReplyCode.FRAME_ERROR, "type " + type + ", channel " + channel
                    + ": invalid frame end marker 0x" + Integer.toHexString(end));
        }
        if (type == FrameType.HEARTBEAT) {
            if (size != 0) {
                // rabbit_command_assembler: analyze_frame(?FRAME_HEARTBEAT, non-empty) = error -> unknown_frame (501)
                throw new ProtocolException(ReplyCode.FRAME_ERROR, "heartbeat frame with " + size + " payload bytes");
            }
            if (channel != 0) {
                // rabbit_reader handle_frame: heartbeat on a channel other than 0 -> unexpected_frame (505)
                throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "heartbeat frame on channel " + channel);
            }
        } else if (type == FrameType.METHOD && size < 4) {
            // analyze_frame needs <<ClassId:16, MethodId:16, _/binary>>, else error -> unknown_frame (501)
            throw new ProtocolException(ReplyCode.FRAME_ERROR, "method frame of " + size + " bytes on channel " + channel);
        } else if (type == FrameType.HEADER && size < ContentHeader.FIXED_SIZE) {
            // analyze_frame needs <<ClassId:16, Weight:16, BodySize:64, _/binary>>, else unknown_frame (501)
            throw new ProtocolException(ReplyCode.FRAME_ERROR, "content header frame of " + size + " bytes on channel "
                    + channel);
        }
        return new Frame(type, channel, payload);
    }
}
