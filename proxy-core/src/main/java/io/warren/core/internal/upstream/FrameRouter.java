package io.warren.core.internal.upstream;

import io.warren.codec.Frame;
import io.warren.core.internal.wire.Frames;
import io.warren.core.internal.wire.GrowableBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Routes the broker's frames of one upstream read to whoever holds each channel at that moment: each frame is copied,
 * with the holder's channel number, into one batch per owner, and at the end of the read each batch goes to its
 * owner's loop (or is delivered at once when it is this loop). The holder is looked up per frame, so a channel that
 * changed hands, or a slot freed and reused, can never misroute an earlier frame.
 *
 * <p>Owned by its upstream connection's loop.
 */
final class FrameRouter {
    private final SlotTable slots;
    /** Frames per owner while one read is routed, in the order each owner first got one. */
    private final Map<ChannelOwner, Batch> batches = new LinkedHashMap<>();

    FrameRouter(SlotTable slots) {
        this.slots = slots;
    }

    private static final class Batch {
        final GrowableBuffer data = new GrowableBuffer(256);
        final List<ChannelHolder> holders = new ArrayList<>(4);
    }

    /** A frame on a non-zero channel. */
    void route(Frame frame) {
        UpstreamChannel channel = slots.get(frame.channel());
        ChannelHolder holder = channel == null ? null : channel.holder();
        if (holder == null) {
            return; // a channel nobody holds (any more): the broker's late frames are dropped
        }
        Batch batch = batches.get(holder.owner());
        if (batch == null) {
            batch = new Batch();
            batches.put(holder.owner(), batch);
        }
        Frames.copyFrame(frame.type(), holder.ownerChannel(), frame.payload(), batch.data);
        batch.holders.add(holder);
    }

    /** The read is over: each owner gets its batch. */
    void dispatch() {
        if (batches.isEmpty()) {
            return;
        }
        // In the order each owner first got a frame: a channel handed from a client to its scrubber during this
        // read has the client's frames dispatched first, and both run on the same loop, in that order.
        for (Map.Entry<ChannelOwner, Batch> e : batches.entrySet()) {
            ChannelOwner owner = e.getKey();
            UpstreamBatch batch = new UpstreamBatch(e.getValue().data.take(), e.getValue().holders);
            if (owner.loop().inEventLoop()) {
                owner.deliver(batch);
            } else {
                owner.loop().execute(() -> owner.deliver(batch));
            }
        }
        batches.clear();
    }
}
