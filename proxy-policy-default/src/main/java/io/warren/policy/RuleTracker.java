package io.warren.policy;

import io.warren.api.ChannelTracker;
import io.warren.codec.AmqpMethod;

/**
 * Tracks one channel against a {@link ReuseRules} table: the first method the table does not accept taints the
 * channel for good. Confined to the channel's event-loop thread, like every {@link ChannelTracker}.
 */
final class RuleTracker implements ChannelTracker {
    private final ReuseRules rules;
    /** The first method that made the channel unfit, or null while it is fit. */
    private String taintedBy;

    RuleTracker(ReuseRules rules) {
        this.rules = rules;
    }

    @Override
    public void onClientMethod(AmqpMethod method) {
        if (taintedBy == null && !rules.clientMethodIsSafe(method)) {
            taintedBy = "client " + method.name();
        }
    }

    @Override
    public void onServerMethod(AmqpMethod method) {
        if (taintedBy == null && !rules.serverMethodIsSafe(method)) {
            taintedBy = "server " + method.name();
        }
    }

    @Override
    public boolean mayReuse() {
        return taintedBy == null;
    }

    @Override
    public String verdictSoFar() {
        return taintedBy == null ? "reusable so far" : "not reusable: " + taintedBy;
    }

    /** Says which method, if any, made the channel unfit; for logs and test failures. */
    @Override
    public String toString() {
        return taintedBy == null ? "RuleTracker[reusable]" : "RuleTracker[not reusable: " + taintedBy + "]";
    }
}
