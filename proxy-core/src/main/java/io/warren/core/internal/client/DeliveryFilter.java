package io.warren.core.internal.client;

import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.FramePeek;
import io.warren.codec.FrameType;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.QueueMethod;
import io.warren.codec.TxMethod;
import io.warren.core.internal.screen.SyncMethods;
import io.warren.core.internal.upstream.ChannelHolder;
import io.warren.core.internal.upstream.UpstreamBatch;
import io.warren.core.internal.wire.Confirms;
import io.warren.core.internal.wire.Frames;
import io.warren.core.internal.wire.GrowableBuffer;
import java.nio.ByteBuffer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Frames from the broker on their way to one client: each is looked at on the link it was routed to, kept from the
 * client when the client must not see it (the open-ok Warren already answered, a consumer cancel it did not ask for,
 * anything on a channel it is done with), rewritten where it must (confirm tags of a lent channel, body frames over
 * the client's frame_max split), and the batch is written in one go. Frames for a channel the client already
 * returned go on to its scrubber, in order.
 *
 * <p>Stateless; runs on the session's loop.
 */
final class DeliveryFilter {
    private static final Logger log = LoggerFactory.getLogger(DeliveryFilter.class);

    private DeliveryFilter() {}

    /** The frames an upstream connection routed to {@code session}, channel numbers already the client's. */
    static void deliver(ClientSession session, UpstreamBatch batch) {
        ByteBuffer data = batch.data();
        List<ChannelHolder> holders = batch.holders();
        boolean open = session.state == ClientSession.State.OPEN;
        GrowableBuffer kept = null; // only built when some frame must not reach the client as it is
        int at = data.position();
        for (int i = 0; i < holders.size(); i++) {
            ChannelLink link = (ChannelLink) holders.get(i);
            int size = FramePeek.payloadSize(data, at) + FrameType.OVERHEAD;
            boolean forward = open && session.channels.get(link.clientChannel) == link
                    && inspect(session, link, data, at);
            if (!forward && link.state == ChannelLink.State.RETURNED) {
                // Routed before the client let go of the channel: its scrubber sees it after what the client sent.
                session.publish.flush();
                link.returnedTo.inspect(data, at);
            }
            boolean split = forward && FramePeek.type(data, at) == FrameType.BODY && size > session.frameMax;
            if ((!forward || split) && kept == null) {
                kept = new GrowableBuffer(data.remaining());
                ByteBuffer before = data.duplicate();
                before.position(data.position()).limit(at);
                kept.append(before);
            }
            if (kept != null && forward) {
                ByteBuffer frame = data.duplicate();
                frame.position(at).limit(at + size);
                if (split) {
                    splitBody(frame, session.frameMax, kept);
                } else {
                    kept.append(frame);
                }
            }
            at += size;
        }
        if (session.state == ClientSession.State.OPEN || session.state == ClientSession.State.CLOSING) {
            ByteBuffer toClient = kept == null ? data : kept.take();
            if (toClient.hasRemaining() && session.state == ClientSession.State.OPEN) {
                session.write(toClient, holders.size());
            }
        }
        session.publish.flush();
    }

    /** Splits a body frame larger than the client's frame_max (DESIGN.md invariant 9). */
    private static void splitBody(ByteBuffer frame, int frameMax, GrowableBuffer dst) {
        int channel = FramePeek.channel(frame, frame.position());
        ByteBuffer payload = frame.duplicate();
        payload.position(frame.position() + FrameType.HEADER_SIZE).limit(frame.limit() - 1);
        int chunk = frameMax - FrameType.OVERHEAD;
        while (payload.hasRemaining()) {
            ByteBuffer part = payload.duplicate();
            part.limit(part.position() + Math.min(chunk, part.remaining()));
            Frames.copyFrame(FrameType.BODY, channel, part, dst);
            payload.position(part.limit());
        }
    }

    /** Looks at a frame from upstream on a live link; returns whether the client should see it. */
    private static boolean inspect(ClientSession session, ChannelLink link, ByteBuffer data, int at) {
        if (FramePeek.type(data, at) != FrameType.METHOD) {
            return link.isUsable();
        }
        int classId = FramePeek.classId(data, at);
        int methodId = FramePeek.methodId(data, at);
        if (classId == ChannelMethod.Open.CLASS_ID) {
            // Every channel-class method (open-ok, close, close-ok, and flow / flow-ok) is decided here.
            return session.channels.channelMethodFromUpstream(link, methodId);
        }
        if (classId == BasicMethod.Deliver.CLASS_ID && (methodId == BasicMethod.Deliver.METHOD_ID
                || methodId == BasicMethod.GetOk.METHOD_ID)) {
            session.messagesDelivered++;
        }
        if (SyncMethods.isReply(classId, methodId) && link.pendingSync > 0) {
            link.pendingSync--;
        }
        if (Confirms.isConfirm(classId, methodId) && link.upstream.confirmMode()) {
            long tag = Confirms.deliveryTag(data, at);
            link.upstream.confirmed(tag, Confirms.multiple(data, at));
            if (link.confirmTagOffset > 0) {
                Confirms.rewriteDeliveryTag(data, at, tag - link.confirmTagOffset); // a borrower counts from 1
            }
        }
        if (classId == QueueMethod.DeclareOk.CLASS_ID && methodId == QueueMethod.DeclareOk.METHOD_ID) {
            Boolean exclusive = link.pendingQueueDeclares.poll();
            if (Boolean.TRUE.equals(exclusive) && decodeAt(session, data, at) instanceof QueueMethod.DeclareOk ok) {
                session.channels.exclusiveQueueDeclared(ok.queue(), link.upstream.connection());
            }
        }
        if (classId == TxMethod.CommitOk.CLASS_ID && methodId == TxMethod.CommitOk.METHOD_ID) {
            link.rules.commitAnswered();
        }
        if (classId == BasicMethod.Cancel.CLASS_ID && methodId == BasicMethod.Cancel.METHOD_ID) {
            if (decodeAt(session, data, at) instanceof BasicMethod.Cancel cancel) {
                link.rules.consumerEnded(cancel.consumerTag());
                link.tracker.onServerMethod(cancel);
            }
            if (!session.login.capabilities().consumerCancelNotify()) {
                return false; // the broker would not have sent it to a client that did not ask for it
            }
        }
        return link.isUsable();
    }

    /** Decodes the method frame at {@code at}; null (logged) if the broker sent something undecodable. */
    private static AmqpMethod decodeAt(ClientSession session, ByteBuffer data, int at) {
        ByteBuffer payload = data.duplicate();
        payload.position(at + FrameType.HEADER_SIZE).limit(at + FrameType.HEADER_SIZE + FramePeek.payloadSize(data, at));
        try {
            return MethodCodec.decode(payload);
        } catch (ProtocolException e) {
            log.warn("client {}: undecodable method from upstream: {}", session.id(), e.getMessage());
            return null;
        }
    }
}
