package io.warren.policy;

import io.warren.api.ChannelContext;
import io.warren.api.ChannelReusePolicy;
import io.warren.api.ChannelTracker;

/**
 * The default reuse policy, {@code publish-safe}: an upstream channel may be lent again only if its client did
 * nothing but publish, fetch with no-ack, set prefetch, turn on publisher confirms, and declare, bind, unbind, purge
 * or delete exchanges and non-exclusive queues. Anything else (a consumer, a delivery awaiting acknowledgement, a
 * transaction, flow control, an exclusive queue, a method it does not know) makes the channel unfit, as does a
 * channel.flow, channel.close or basic.cancel from the broker. This covers the short-lived publisher Warren exists
 * for and nothing more.
 */
public final class PublishSafePolicy implements ChannelReusePolicy {
    /** The name to select this policy in the configuration. */
    public static final String NAME = "publish-safe";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ChannelTracker track(ChannelContext context) {
        return new RuleTracker(ReuseRules.PUBLISH_SAFE);
    }

    @Override
    public String toString() {
        return "PublishSafePolicy[" + NAME + "]";
    }
}
