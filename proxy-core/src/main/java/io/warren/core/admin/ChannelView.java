package io.warren.core.admin;

/**
 * One client channel and the upstream channel behind it.
 *
 * @param number the client's channel number
 * @param node the upstream node it is on
 * @param upstreamConnection the id of the upstream connection (as in {@link UpstreamView#id()})
 * @param upstreamChannel the channel's number on that connection
 * @param lent whether the upstream channel was lent from the pool rather than opened for this client
 * @param state {@code opening}, {@code open} or {@code closing}
 * @param reuse the reuse verdict so far: whether the upstream channel could be lent to the next client if this one
 *     closed it now, and if not, why
 */
public record ChannelView(int number, String node, long upstreamConnection, int upstreamChannel, boolean lent,
        String state, String reuse) {}
