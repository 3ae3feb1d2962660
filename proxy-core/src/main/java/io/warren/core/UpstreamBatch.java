package io.warren.core;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Frames one upstream read routed to one client: {@code data} holds whole frames with the client's channel numbers,
 * and {@code links.get(i)} is the link the i-th frame was routed through (resolved on the upstream loop, so a slot
 * reused later can never misroute an earlier frame).
 */
record UpstreamBatch(ByteBuffer data, List<ChannelLink> links) {}
