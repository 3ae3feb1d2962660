package io.warren.api;

/**
 * Decides which upstream channels may be lent to another client after their client is done with them.
 *
 * <p>Reuse saves the broker a channel.open and the client an upstream round trip, but a channel carries state: a
 * consumer, unacknowledged deliveries, a transaction, flow control, exclusive resources. A policy must refuse
 * reuse whenever the client could have left state that the next client would observe, and the engine's scrub
 * (confirms drained, prefetch reset for consumers and for the channel, a barrier method answered) is all the cleaning
 * that happens. State the broker keeps beyond the channel (exchanges, queues, bindings) is not the policy's concern:
 * a fresh channel would see it too.
 *
 * <p>{@link #track} is called on an event-loop thread for every channel a client opens, from any of the event-loop
 * threads; it must be fast, non-blocking and thread-safe. One instance serves the whole process. Implementations need a public no-argument constructor and a
 * {@code META-INF/services/io.warren.api.ChannelReusePolicy} entry; the operator selects one by {@link #name()}.
 */
public interface ChannelReusePolicy extends Named {
    /** Starts watching a channel that was just given to a client. */
    ChannelTracker track(ChannelContext context);
}
