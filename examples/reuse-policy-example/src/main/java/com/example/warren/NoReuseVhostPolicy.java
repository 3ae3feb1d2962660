package com.example.warren;

import io.warren.api.ChannelContext;
import io.warren.api.ChannelReusePolicy;
import io.warren.api.ChannelTracker;
import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConfirmMethod;
import io.warren.codec.ExchangeMethod;
import io.warren.codec.QueueMethod;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reuse policy {@code no-reuse-vhost}: channels of the virtual hosts listed in the environment variable
 * {@code NO_REUSE_VHOSTS} (comma-separated, e.g. {@code /audit,billing}) are never lent to another client; every
 * other channel follows the same conservative rule as Warren's default {@code publish-safe}: reusable only if its
 * client did nothing but publish, fetch with no-ack, set prefetch, enable confirms, or declare/bind/unbind/delete
 * exchanges and non-exclusive queues.
 *
 * <p>Why: an operator may want a strict boundary for one tenant (every client gets a fresh channel, so nothing it did
 * can ever be seen by another client), while short-lived publishers elsewhere keep the speed of reuse.
 *
 * <p>Read once, when Warren creates the policy at startup. One instance serves every channel, from every event-loop
 * thread: it holds only immutable state; each tracker belongs to one channel and one thread.
 */
public final class NoReuseVhostPolicy implements ChannelReusePolicy {
    /** The environment variable listing the virtual hosts whose channels are never reused. */
    public static final String ENV = "NO_REUSE_VHOSTS";

    private final Set<String> noReuse;

    /** The public no-argument constructor ServiceLoader needs: reads {@value #ENV}. Cheap and side-effect free. */
    public NoReuseVhostPolicy() {
        this(System.getenv(ENV));
    }

    /** For tests: the comma-separated list as the environment would give it (null: none). */
    NoReuseVhostPolicy(String vhosts) {
        this.noReuse = vhosts == null ? Set.of() : Arrays.stream(vhosts.split(","))
                .map(String::strip).filter(v -> !v.isEmpty()).collect(Collectors.toUnmodifiableSet());
    }

    @Override
    public String name() {
        return "no-reuse-vhost";
    }

    @Override
    public ChannelTracker track(ChannelContext context) {
        return noReuse.contains(context.virtualHost()) ? NEVER : new PublishOnlyTracker();
    }

    /** Stateless, so one serves every channel of an excluded virtual host. */
    private static final ChannelTracker NEVER = new ChannelTracker() {
        @Override
        public void onClientMethod(AmqpMethod method) {}

        @Override
        public boolean mayReuse() {
            return false;
        }
    };

    /** Fit for reuse until the client (or the broker) does anything that leaves state on the channel. */
    static final class PublishOnlyTracker implements ChannelTracker {
        private boolean fit = true;

        @Override
        public void onClientMethod(AmqpMethod m) {
            fit &= isSafe(m);
        }

        @Override
        public void onServerMethod(AmqpMethod m) {
            // The broker paused the channel, closed it, or cancelled a consumer: never lend such a channel.
            fit &= !(m instanceof ChannelMethod.Flow || m instanceof ChannelMethod.Close
                    || m instanceof BasicMethod.Cancel);
        }

        @Override
        public boolean mayReuse() {
            return fit;
        }

        /** Anything not listed (consume, ack, tx, recover, flow, unknown methods) makes the channel unfit. */
        static boolean isSafe(AmqpMethod m) {
            return m instanceof ChannelMethod.Open || m instanceof ChannelMethod.Close
                    || m instanceof BasicMethod.Publish || m instanceof BasicMethod.Qos
                    || (m instanceof BasicMethod.Get get && get.noAck())
                    || m instanceof ConfirmMethod.Select
                    || m instanceof ExchangeMethod.Declare || m instanceof ExchangeMethod.Delete
                    || m instanceof ExchangeMethod.Bind || m instanceof ExchangeMethod.Unbind
                    || (m instanceof QueueMethod.Declare d && (d.passive() || !d.exclusive()))
                    || m instanceof QueueMethod.Bind || m instanceof QueueMethod.Unbind
                    || m instanceof QueueMethod.Purge || m instanceof QueueMethod.Delete;
        }
    }
}
