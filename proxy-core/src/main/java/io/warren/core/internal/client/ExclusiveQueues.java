package io.warren.core.internal.client;

import io.warren.codec.QueueMethod;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.upstream.Scrubber;
import io.warren.core.internal.upstream.UpstreamChannel;
import io.warren.core.internal.wire.Frames;
import java.util.LinkedHashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exclusive queues one client declared, server-named ones included (RPC reply queues): the broker deletes them
 * when the connection that declared them closes, but behind Warren that connection is shared and stays, so Warren
 * deletes them when the client goes (DESIGN.md invariant 10).
 *
 * <p>Created at the client's first exclusive declare; owned by the session's loop.
 */
final class ExclusiveQueues {
    private static final Logger log = LoggerFactory.getLogger(ExclusiveQueues.class);

    private final Set<String> names = new LinkedHashSet<>(2);

    void declared(String queue) {
        names.add(queue);
    }

    void deleted(String queue) {
        names.remove(queue);
    }

    /**
     * Deletes them on a channel of Warren's own, pipelined after what the client sent (open, deletes, close) so
     * nothing waits; the channel's close-ok frees it.
     */
    void deleteAll(ClientSession session) {
        if (names.isEmpty()) {
            return;
        }
        ClientLogin login = session.login;
        UpstreamChannel temp = session.clients.pools().openInternalChannel(login.keyed(), login.home(), session);
        if (temp == null) {
            log.warn("client {}: no upstream channel free to delete its exclusive queues {}", session.id(), names);
            return;
        }
        PublishPath out = session.publish;
        Scrubber.awaitCloseOk(temp, session.loop());
        temp.open(out);
        for (String queue : names) {
            out.append(temp.connection(), Frames.method(temp.number(),
                    new QueueMethod.Delete(0, queue, false, false, false)));
        }
        temp.close(out, "exclusive queues deleted");
        log.debug("client {}: deleting exclusive queues {}", session.id(), names);
        names.clear();
    }
}
