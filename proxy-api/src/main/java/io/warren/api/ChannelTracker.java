package io.warren.api;

import io.warren.codec.AmqpMethod;

/**
 * Watches one client's use of one upstream channel, from the moment the channel is given to the client until the
 * client closes it or disconnects, and then says whether the upstream channel may be lent to another client.
 *
 * <p>All calls for one tracker come from one thread, in the order the frames travelled; a tracker needs no locking.
 * The engine itself guards the hazards that do not depend on policy (half-sent content, outstanding confirms, the
 * scrub barrier), so a tracker judges only what the client asked the broker to do.
 *
 * <p>The engine shows the tracker every method of every class that the client sends on the channel, fully decoded
 * (so a tracker can read fields such as basic.get's no-ack or queue.declare's exclusive), not only the classes the
 * engine itself needs to understand. It may or may not show the channel.open and channel.close that begin and end the
 * channel; a tracker must not count them against reuse. A tracker must treat any method it does not recognise as
 * unsafe. Methods the engine answers locally (for instance a confirm.select on a channel already in confirm mode)
 * are shown too. A tracker is used for one client channel and then dropped.
 */
public interface ChannelTracker {
    /**
     * A method the client sent on this channel, before it goes upstream (or is answered locally). Content headers and
     * bodies are not shown. Must not throw and must not block.
     */
    void onClientMethod(AmqpMethod method);

    /**
     * A method the broker sent on this channel, before it reaches the client (replies, returns, deliveries, a
     * channel.flow or channel.close from the broker). Must not throw and must not block.
     */
    default void onServerMethod(AmqpMethod method) {}

    /**
     * Asked once, when the client closes the channel or disconnects. The engine may still refuse reuse on its own
     * grounds (an unfinished message, an unconfirmed publish, a failed scrub); it never reuses a channel for which
     * this returned false.
     *
     * @return true if the upstream channel, after the engine's scrub, may be lent to another client of the same pool
     */
    boolean mayReuse();

    /**
     * The verdict so far, in words, for an operator looking at a live channel (the admin API): "reusable so far", or
     * why not ("not reusable: client basic.consume"). Unlike {@link #mayReuse()} it may be asked at any time, any
     * number of times, from the channel's thread; it must not change the tracker, throw or block.
     */
    default String verdictSoFar() {
        return "not reported by this reuse policy";
    }
}
