package io.warren.core.internal.upstream;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Frames of one upstream read routed to one owner: {@code data} holds whole frames with the owner's channel numbers,
 * and {@code holders.get(i)} is the holding the i-th frame was routed to (resolved on the upstream loop, so a channel
 * that changed hands, or a slot reused, later can never misroute an earlier frame).
 */
public record UpstreamBatch(ByteBuffer data, List<ChannelHolder> holders) {}
