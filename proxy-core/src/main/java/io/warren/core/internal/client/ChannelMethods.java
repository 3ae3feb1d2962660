package io.warren.core.internal.client;

import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConfirmMethod;
import io.warren.codec.ExchangeMethod;
import io.warren.codec.Frame;
import io.warren.codec.FrameType;
import io.warren.codec.ProtocolException;
import io.warren.codec.QueueMethod;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.screen.HardError;
import io.warren.core.internal.screen.HardErrorScreen;
import io.warren.core.internal.screen.SyncMethods;
import io.warren.core.internal.upstream.UpstreamChannel;
import io.warren.core.internal.wire.Frames;
import io.warren.core.internal.wire.GrowableBuffer;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * A method a client sent on one of its open channels, in the order the checks must run: the hard-error screen
 * (a method RabbitMQ would answer by closing the shared connection is answered to this client alone), isolation
 * (an exchange type only the broker can judge is tried on a connection of its own first), the channel's own life
 * (open, close), what a lent channel must not reveal (the last borrower's declared queue), confirm mode (answered
 * locally on a lent confirm-mode channel), the bookkeeping the scrub and the reuse policy need, and at last the
 * method goes upstream, rewritten to the upstream channel number.
 *
 * <p>Stateless; runs on the session's loop.
 */
final class ChannelMethods {
    private ChannelMethods() {}

    static void handle(ClientSession session, ChannelLink link, Frame frame, AmqpMethod method)
            throws ProtocolException {
        Optional<HardError> hard = HardErrorScreen.check(method);
        if (hard.isEmpty()) {
            hard = link.rules.check(method); // not Optional.or: a capturing lambda per method costs without C2
        }
        if (hard.isPresent()) {
            session.hardError(hard.get());
            return;
        }
        if (HardErrorScreen.needsIsolation(method) && !isolated(session, link, frame, (ExchangeMethod.Declare) method)) {
            return;
        }
        if (method instanceof ChannelMethod.Open) {
            session.hardError(HardError.secondChannelOpen());
            return;
        }
        if (method instanceof ChannelMethod.Close) {
            if (session.channels.reuseAllowed(link)) {
                session.channels.returnForReuse(link);
            } else {
                session.channels.clientClosing(link, frame);
            }
            return;
        }
        if (link.lent && !link.declaredQueue && usesLastDeclaredQueue(method)) {
            // The previous borrower's last declared queue must not leak: answer as a fresh channel would.
            session.channels.closeLocally(link, ReplyCode.NOT_FOUND, "no previously declared queue",
                    method.classId(), method.methodId());
            return;
        }
        if (method instanceof ConfirmMethod.Select select && confirmLocally(session, link, select)) {
            return;
        }
        link.untouched = false;
        if (SyncMethods.expectsReply(method)) {
            link.pendingSync++;
        }
        if (method instanceof ChannelMethod.CloseOk) {
            // As RabbitMQ answers it.
            session.hardError(HardError.unimplementedMethod(method.classId(), method.methodId()));
            return;
        }
        link.tracker.onClientMethod(method);
        if (method instanceof QueueMethod.Declare declare) {
            link.declaredQueue = true;
            boolean exclusive = declare.exclusive() && !declare.passive();
            if (!declare.nowait()) {
                link.pendingQueueDeclares.add(exclusive); // the name comes with declare-ok
            } else if (exclusive && !declare.queue().isEmpty()) {
                session.channels.exclusiveQueueDeclared(declare.queue(), link.upstream.connection());
            }
        } else if (method instanceof QueueMethod.Delete delete) {
            session.channels.queueDeleted(delete.queue());
        }
        if (method.hasContent()) {
            session.publish.contentMethod(link, frame);
            return;
        }
        session.publish.appendFrame(link, frame);
    }

    /**
     * An exchange.declare whose type only the broker can judge (DESIGN.md invariant 5).
     *
     * @return whether it may go on as usual (the type is known to exist)
     */
    private static boolean isolated(ClientSession session, ChannelLink link, Frame frame,
            ExchangeMethod.Declare declare) {
        Optional<HardError> verdict = session.clients.exchangeTypes().verdict(declare.type());
        if (verdict == null) {
            // A type Warren has not seen: ask the broker on a connection of its own first.
            GrowableBuffer copy = new GrowableBuffer(frame.size() + FrameType.OVERHEAD);
            Frames.copyFrame(frame.type(), link.upstream.number(), frame.payload(), copy);
            ByteBuffer upstreamFrame = copy.take();
            session.suspend();
            session.clients.exchangeTypes().probe(declare, session.login.keyed().upstream(), session.loop(),
                    v -> exchangeTypeChecked(session, link, declare, upstreamFrame, v));
            return false;
        }
        if (verdict.isPresent()) {
            session.hardError(verdict.get());
            return false;
        }
        return true;
    }

    private static void exchangeTypeChecked(ClientSession session, ChannelLink link, ExchangeMethod.Declare declare,
            ByteBuffer upstreamFrame, Optional<HardError> verdict) {
        assert session.onLoop();
        if (!session.isReading()) {
            return;
        }
        if (verdict.isPresent()) {
            session.hardError(verdict.get());
            return;
        }
        if (link.isUsable() && session.channels.get(link.clientChannel) == link) {
            link.tracker.onClientMethod(declare);
            session.publish.append(link.upstream.connection(), upstreamFrame);
            session.publish.flush();
        }
        session.resume();
    }

    /**
     * confirm.select on a channel already in confirm mode is answered here; on an untouched channel, a scrubbed
     * confirm-mode channel from the pool replaces it (and it goes back to the pool as it is).
     *
     * @return whether the method was fully handled here
     */
    private static boolean confirmLocally(ClientSession session, ChannelLink link, ConfirmMethod.Select select) {
        if (link.upstream.confirmMode()) {
            link.tracker.onClientMethod(select);
            link.untouched = false;
            if (!select.nowait()) {
                session.write(Frames.method(link.clientChannel, new ConfirmMethod.SelectOk()));
            }
            return true;
        }
        if (link.untouched && link.isUsable()) {
            UpstreamChannel confirmChannel = session.clients.pools().lendConfirmChannel(session.login.keyed(),
                    session);
            if (confirmChannel != null) {
                ChannelLink swapped = session.channels.bind(link.clientChannel, confirmChannel);
                session.channels.replace(link, swapped);
                swapped.tracker.onClientMethod(select);
                swapped.untouched = false;
                if (!select.nowait()) {
                    session.write(Frames.method(link.clientChannel, new ConfirmMethod.SelectOk()));
                }
                return true;
            }
        }
        link.upstream.confirmSelected();
        return false;
    }

    /** RabbitMQ methods whose empty queue name means "the queue last declared on this channel". */
    private static boolean usesLastDeclaredQueue(AmqpMethod m) {
        return (m instanceof QueueMethod.Bind b && b.queue().isEmpty())
                || (m instanceof QueueMethod.Unbind u && u.queue().isEmpty())
                || (m instanceof QueueMethod.Purge p && p.queue().isEmpty())
                || (m instanceof QueueMethod.Delete d && d.queue().isEmpty())
                || (m instanceof BasicMethod.Consume c && c.queue().isEmpty())
                || (m instanceof BasicMethod.Get g && g.queue().isEmpty());
    }
}
