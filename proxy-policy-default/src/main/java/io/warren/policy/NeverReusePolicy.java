package io.warren.policy;

import io.warren.api.ChannelContext;
import io.warren.api.ChannelReusePolicy;
import io.warren.api.ChannelTracker;
import io.warren.codec.AmqpMethod;

/**
 * The reuse policy {@code never}: no upstream channel is ever lent to a second client. Upstream connections are
 * still shared; each client channel gets a fresh upstream channel and it is closed when the client is done. For
 * operators who want no reuse at all, and as a test double.
 */
public final class NeverReusePolicy implements ChannelReusePolicy {
    /** The name to select this policy in the configuration. */
    public static final String NAME = "never";

    /** Stateless, so one serves every channel. */
    private static final ChannelTracker NEVER = new ChannelTracker() {
        @Override
        public void onClientMethod(AmqpMethod method) {}

        @Override
        public boolean mayReuse() {
            return false;
        }

        @Override
        public String verdictSoFar() {
            return "not reusable: reuse policy " + NAME;
        }

        @Override
        public String toString() {
            return "NeverReusePolicy.Tracker";
        }
    };

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ChannelTracker track(ChannelContext context) {
        return NEVER;
    }

    @Override
    public String toString() {
        return "NeverReusePolicy[" + NAME + "]";
    }
}
