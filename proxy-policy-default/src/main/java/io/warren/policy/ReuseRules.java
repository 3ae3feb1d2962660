package io.warren.policy;

import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConfirmMethod;
import io.warren.codec.ExchangeMethod;
import io.warren.codec.QueueMethod;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * A decision table: which methods leave an upstream channel fit to be lent to another client. Methods are looked up
 * by (class id, method id); each entry says, from the method's fields, whether this use is safe. A method without an
 * entry (unknown, or known and unsafe) taints the channel.
 *
 * <p>Immutable and thread-safe; one instance is shared by every tracker of a policy.
 */
final class ReuseRules {
    private static final Predicate<AmqpMethod> ALWAYS = m -> true;

    /**
     * The conservative default ({@code publish-safe}). A method belongs here only if, after the engine's scrub, the
     * next client could not tell that the channel had been used: state the broker keeps per channel (consumers,
     * unacknowledged deliveries, a transaction, flow) must be untouched, while changes to broker-wide state (an
     * exchange or queue created or deleted) are fine, because a fresh channel would see them too.
     *
     * <p>Unsafe, and therefore absent, on purpose:
     * <ul>
     *   <li>basic.consume: a consumer lives on the channel and would deliver to the next client; basic.cancel only
     *       follows a consume;</li>
     *   <li>basic.get with no-ack=false: leaves an unacknowledged delivery held by the channel, which the next
     *       client could ack, nack or leave stuck;</li>
     *   <li>basic.ack, basic.nack, basic.reject: they answer deliveries, so the channel had deliveries needing
     *       acknowledgement;</li>
     *   <li>basic.recover, basic.recover-async: redeliver unacknowledged messages on this channel;</li>
     *   <li>tx.select (and tx.commit, tx.rollback): a channel stays transactional for good; the next client's
     *       publishes would wait for a commit that never comes;</li>
     *   <li>channel.flow and channel.flow-ok: pausing or resuming delivery is channel state (and RabbitMQ answers
     *       flow with active=false with a connection-level 540);</li>
     *   <li>access.request: a no-op in RabbitMQ, but other brokers may attach realm state to the channel;</li>
     *   <li>connection methods: never legal on a channel (the engine ends the client first);</li>
     *   <li>anything this table does not know, such as a method added by a broker extension.</li>
     * </ul>
     */
    static final ReuseRules PUBLISH_SAFE = new ReuseRules(Map.ofEntries(
            // The channel's life cycle, which the engine handles itself; listed so that an engine that shows them to
            // the tracker does not disable reuse. A second channel.open is a protocol error the engine refuses.
            entry(ChannelMethod.Open.CLASS_ID, ChannelMethod.Open.METHOD_ID, ALWAYS),
            entry(ChannelMethod.Close.CLASS_ID, ChannelMethod.Close.METHOD_ID, ALWAYS),

            // Publishing keeps no channel state. The engine guards what it can leave behind: a half-sent message
            // (close the channel), confirms not yet received (waited for), basic.return for mandatory messages
            // (dropped during the scrub). immediate=true is a connection-level 540 in RabbitMQ: the engine's job.
            entry(BasicMethod.Publish.CLASS_ID, BasicMethod.Publish.METHOD_ID, ALWAYS),

            // With no-ack the broker forgets the message once get-ok is sent: nothing is left to acknowledge. The
            // channel's delivery-tag counter has advanced, but tags are opaque and only ever compared with tags the
            // same client received.
            entry(BasicMethod.Get.CLASS_ID, BasicMethod.Get.METHOD_ID,
                    m -> m instanceof BasicMethod.Get get && get.noAck()),

            // Prefetch is channel state (per consumer with global=false, per channel with global=true in RabbitMQ),
            // but with no consumer it has no effect yet and the scrub resets both limits to 0 (unlimited).
            // prefetch_size != 0 is a connection-level 540 in RabbitMQ: the engine's job.
            entry(BasicMethod.Qos.CLASS_ID, BasicMethod.Qos.METHOD_ID, ALWAYS),

            // Confirm mode cannot be turned off, but the engine lends a confirm-mode channel only to a client that
            // asks for confirm.select, answers that locally and renumbers delivery tags from 1.
            entry(ConfirmMethod.Select.CLASS_ID, ConfirmMethod.Select.METHOD_ID, ALWAYS),

            // Exchanges have no owner and no channel state: declaring (passive or not), deleting, binding and
            // unbinding change only broker-wide state that a fresh channel would see too. A failure (even with
            // nowait) closes the channel, and the scrub's barrier sees that before the channel is lent.
            entry(ExchangeMethod.Declare.CLASS_ID, ExchangeMethod.Declare.METHOD_ID, ALWAYS),
            entry(ExchangeMethod.Delete.CLASS_ID, ExchangeMethod.Delete.METHOD_ID, ALWAYS),
            entry(ExchangeMethod.Bind.CLASS_ID, ExchangeMethod.Bind.METHOD_ID, ALWAYS),
            entry(ExchangeMethod.Unbind.CLASS_ID, ExchangeMethod.Unbind.METHOD_ID, ALWAYS),

            // A non-exclusive queue is broker-wide state like an exchange. An exclusive one belongs to the connection
            // (so, behind Warren, to this client: the engine must delete it when the client goes away) and is
            // usually consumed from, so it ends reuse. A passive declare creates nothing and ignores the exclusive
            // flag. Residual channel state: the broker remembers the channel's last declared queue, which an empty
            // queue name in a later queue.bind/purge/delete or basic.get/consume refers to; the next client would
            // only meet it by using an empty name without declaring first (an error on a fresh channel).
            entry(QueueMethod.Declare.CLASS_ID, QueueMethod.Declare.METHOD_ID,
                    m -> m instanceof QueueMethod.Declare declare && (declare.passive() || !declare.exclusive())),

            // Binding, unbinding, purging and deleting change the queue, not the channel: a fresh channel would see
            // the same result. Deleting a queue that has consumers on other channels cancels them there, as it
            // would without Warren.
            entry(QueueMethod.Bind.CLASS_ID, QueueMethod.Bind.METHOD_ID, ALWAYS),
            entry(QueueMethod.Unbind.CLASS_ID, QueueMethod.Unbind.METHOD_ID, ALWAYS),
            entry(QueueMethod.Purge.CLASS_ID, QueueMethod.Purge.METHOD_ID, ALWAYS),
            entry(QueueMethod.Delete.CLASS_ID, QueueMethod.Delete.METHOD_ID, ALWAYS)));

    /**
     * Methods from the broker that make a channel unfit whatever the client did: channel.flow (the broker paused or
     * resumed the channel), channel.close (the channel is dead) and basic.cancel (a consumer was cancelled, so there
     * was one).
     */
    private static final Map<Integer, Predicate<AmqpMethod>> SERVER_TAINTS = Map.ofEntries(
            entry(ChannelMethod.Flow.CLASS_ID, ChannelMethod.Flow.METHOD_ID, ALWAYS),
            entry(ChannelMethod.Close.CLASS_ID, ChannelMethod.Close.METHOD_ID, ALWAYS),
            entry(BasicMethod.Cancel.CLASS_ID, BasicMethod.Cancel.METHOD_ID, ALWAYS));

    /** Safe client methods by {@link #id}; a method is safe if it has an entry and the entry accepts it. */
    private final Map<Integer, Predicate<AmqpMethod>> safeFromClient;

    private ReuseRules(Map<Integer, Predicate<AmqpMethod>> safeFromClient) {
        this.safeFromClient = safeFromClient;
    }

    /** Whether a client that sent {@code method} on a channel leaves it fit to be lent again. */
    boolean clientMethodIsSafe(AmqpMethod method) {
        Objects.requireNonNull(method, "method");
        Predicate<AmqpMethod> rule = safeFromClient.get(id(method.classId(), method.methodId()));
        return rule != null && rule.test(method);
    }

    /** Whether a broker that sent {@code method} on a channel leaves it fit to be lent again. */
    boolean serverMethodIsSafe(AmqpMethod method) {
        Objects.requireNonNull(method, "method");
        return !SERVER_TAINTS.containsKey(id(method.classId(), method.methodId()));
    }

    private static Map.Entry<Integer, Predicate<AmqpMethod>> entry(
            int classId, int methodId, Predicate<AmqpMethod> safe) {
        return Map.entry(id(classId, methodId), safe);
    }

    /** Class and method ids are 16-bit on the wire, so one int holds both. */
    private static int id(int classId, int methodId) {
        return (classId << 16) | (methodId & 0xffff);
    }
}
