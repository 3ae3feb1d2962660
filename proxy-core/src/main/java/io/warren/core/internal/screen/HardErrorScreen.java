package io.warren.core.internal.screen;

import io.warren.codec.AccessMethod;
import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConfirmMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.ContentHeader;
import io.warren.codec.ExchangeMethod;
import io.warren.codec.ProtocolException;
import io.warren.codec.QueueMethod;
import io.warren.codec.ReplyCode;
import io.warren.codec.TxMethod;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.Set;

/**
 * Screens a well-formed method that a client sent on an open, non-zero channel for the cases where
 * RabbitMQ 3.10 would answer with a connection-level (hard) error, closing every client that shares the
 * upstream connection (DESIGN.md invariant 5). For those cases {@link #check} returns the error exactly
 * as RabbitMQ sends it (code, text, class id, method id; verified against rabbitmq-server 3.10.8), so the
 * proxy can end only that client, and the method must not be forwarded.
 *
 * <p>Only what the method alone decides is here. Hard errors that depend on per-channel state (consumer
 * tags in use, a tx.commit in flight, channel open/closing) have factories on {@link HardError}; those
 * that depend on broker state (exchange types provided by plugins, queue types) are flagged by
 * {@link #needsIsolation}; docs/hard-errors.md lists every case and the approach for each.
 *
 * <p>The caller handles channel.open, channel.close and channel.close-ok itself (their outcome depends
 * on the channel's state), so {@link #check} returns empty for them. A method with content
 * (basic.publish, and the server-only basic.return/deliver/get-ok) is answered by RabbitMQ only once its
 * content is complete; answering at the method frame is equivalent because the client is being closed
 * and everything it sends after that, bar connection.close-ok, is discarded.
 */
public final class HardErrorScreen {

    /** Exchange types registered by the rabbit application itself, present on every 3.x broker. */
    public static final Set<String> BUILT_IN_EXCHANGE_TYPES = Set.of("direct", "fanout", "topic", "headers");
    /** The queue types of RabbitMQ 3.10 (x-queue-type values it knows; case matters). */
    public static final Set<String> QUEUE_TYPES = Set.of("classic", "quorum", "stream");

    private HardErrorScreen() {
    }

    /** The hard error RabbitMQ would raise for this method on an open channel, if the method alone decides it. */
    public static Optional<HardError> check(AmqpMethod method) {
        // Java 17: pattern matching for switch is a preview feature, so instanceof patterns it is.
        // rabbit_channel:handle_method clauses that raise not_implemented (540). The message path's methods first,
        // decided at once: nothing further down applies to them, and the tests below cost a call each without C2.
        if (method instanceof BasicMethod.Publish p) {
            return p.immediate() ? notImplemented("immediate=true", method) : Optional.empty();
        }
        if (method instanceof BasicMethod.Ack || method instanceof BasicMethod.Nack
                || method instanceof BasicMethod.Reject) {
            return Optional.empty();
        }
        if (method instanceof BasicMethod.Qos q && q.prefetchSize() != 0) {
            return notImplemented("prefetch_size!=0 (" + q.prefetchSize() + ")", method);
        }
        if (method instanceof BasicMethod.RecoverAsync r && !r.requeue()) {
            return notImplemented("requeue=false", method);
        }
        if (method instanceof BasicMethod.Recover r && !r.requeue()) {
            return notImplemented("requeue=false", method);
        }
        if (method instanceof ChannelMethod.Flow f && !f.active()) {
            return notImplemented("active=false", method);
        }
        // rabbit_channel names a server-named queue by its type's module before the arguments are validated: an
        // x-queue-type that is not a known type name (or not a string) crashes the channel, and the reader closes
        // the connection with a bare INTERNAL_ERROR (a named queue gets a 406 for the same argument)
        if (method instanceof QueueMethod.Declare d && !d.passive() && d.queue().isEmpty()
                && d.arguments().get("x-queue-type").isPresent()
                && d.arguments().getString("x-queue-type").filter(QUEUE_TYPES::contains).isEmpty()) {
            return Optional.of(HardError.bareInternalError());
        }
        // methods only a server sends fall to rabbit_channel's catch-all clause: command_invalid (503);
        // a connection-class method on a non-zero channel reaches the channel process the same way
        if (isServerOnly(method) || method instanceof ConnectionMethod) {
            return Optional.of(HardError.unimplementedMethod(method.classId(), method.methodId()));
        }
        return Optional.empty();
    }

    /** Methods of the channel-level classes that only a server sends (every -ok, deliver, return, get-*). */
    public static boolean isServerOnly(AmqpMethod m) {
        return m instanceof ChannelMethod.OpenOk || m instanceof ChannelMethod.FlowOk
                || m instanceof AccessMethod.RequestOk
                || m instanceof ExchangeMethod.DeclareOk || m instanceof ExchangeMethod.DeleteOk
                || m instanceof ExchangeMethod.BindOk || m instanceof ExchangeMethod.UnbindOk
                || m instanceof QueueMethod.DeclareOk || m instanceof QueueMethod.BindOk
                || m instanceof QueueMethod.PurgeOk || m instanceof QueueMethod.DeleteOk
                || m instanceof QueueMethod.UnbindOk
                || m instanceof BasicMethod.QosOk || m instanceof BasicMethod.ConsumeOk
                || m instanceof BasicMethod.CancelOk || m instanceof BasicMethod.Return
                || m instanceof BasicMethod.Deliver || m instanceof BasicMethod.GetOk
                || m instanceof BasicMethod.GetEmpty || m instanceof BasicMethod.RecoverOk
                || m instanceof TxMethod.SelectOk || m instanceof TxMethod.CommitOk
                || m instanceof TxMethod.RollbackOk || m instanceof ConfirmMethod.SelectOk;
    }

    /**
     * True when RabbitMQ may answer this method with a hard error that only the broker can judge, so it
     * must first be tried on an upstream connection no other client shares: exchange.declare (not passive)
     * of a type that is not built in raises 503 "unknown exchange type 'T'" or "invalid exchange type 'T'"
     * unless a plugin provides the type. Once a type has succeeded on a broker the caller may cache it.
     */
    public static boolean needsIsolation(AmqpMethod method) {
        return method instanceof ExchangeMethod.Declare d && !d.passive()
                && !BUILT_IN_EXCHANGE_TYPES.contains(d.type());
    }

    /**
     * RabbitMQ decodes every content header's property list as it arrives, and a list it cannot decode crashes the
     * channel, which closes the connection (541): the header's payload, position to limit, left unchanged.
     */
    public static Optional<HardError> checkContentHeader(ByteBuffer payload) {
        try {
            ContentHeader.decode(payload);
            return Optional.empty();
        } catch (ProtocolException e) {
            return Optional.of(HardError.undecodableContentProperties());
        }
    }

    private static Optional<HardError> notImplemented(String explanation, AmqpMethod method) {
        return Optional.of(HardError.of(ReplyCode.NOT_IMPLEMENTED, explanation, method.classId(), method.methodId()));
    }
}
