package io.warren.core.internal.screen;

import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.TxMethod;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The hard errors that depend on what a client did on one channel (docs/hard-errors.md): reusing a consumer tag
 * the channel has, and any method but channel.close while a tx.commit is in flight. RabbitMQ closes the whole
 * connection for either. Fed the client's methods in order and the broker's answers that end those states.
 *
 * <p>Not thread-safe: owned by the channel's event loop.
 */
public final class ChannelRules {
    /** Consumer tags the client chose on this channel; null until it chooses one. */
    private Set<String> consumerTags;
    /** tx.commit sent, commit-ok not yet seen. */
    private boolean txCommitPending;

    /** The hard error RabbitMQ would raise for {@code method} on this channel now, if any; records it otherwise. */
    public Optional<HardError> check(AmqpMethod method) {
        if (txCommitPending && !(method instanceof ChannelMethod.Close)) {
            return Optional.of(HardError.txCommitInProgress(method.classId(), method.methodId()));
        }
        if (method instanceof BasicMethod.Consume consume && !consume.consumerTag().isEmpty()) {
            if (consumerTags == null) {
                consumerTags = new HashSet<>(2);
            }
            if (!consumerTags.add(consume.consumerTag())) {
                return Optional.of(HardError.consumerTagReuse(consume.consumerTag()));
            }
        }
        if (method instanceof BasicMethod.Cancel cancel) {
            consumerEnded(cancel.consumerTag());
        } else if (method instanceof TxMethod.Commit) {
            txCommitPending = true;
        }
        return Optional.empty();
    }

    /** The broker answered tx.commit. */
    public void commitAnswered() {
        txCommitPending = false;
    }

    /** A consumer ended (the client cancelled it, or the broker did): its tag may be used again. */
    public void consumerEnded(String consumerTag) {
        if (consumerTags != null) {
            consumerTags.remove(consumerTag);
        }
    }
}
