package io.warren.core.internal.client;

import io.warren.codec.QueueMethod;
import io.warren.core.internal.upstream.Scrubber;
import io.warren.core.internal.upstream.UpstreamChannel;
import io.warren.core.internal.upstream.UpstreamConnection;
import io.warren.core.internal.wire.Frames;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exclusive queues one client declared, server-named ones included (RPC reply queues), with the upstream
 * connection each was declared on: the broker deletes them when that connection closes, but behind Warren it is
 * shared and stays, so Warren deletes them when the client goes (DESIGN.md invariant 10). Only the connection that
 * owns an exclusive queue may delete it; a queue whose connection died went with it (that node's business).
 *
 * <p>Created at the client's first exclusive declare; owned by the session's loop.
 */
final class ExclusiveQueues {
    private static final Logger log = LoggerFactory.getLogger(ExclusiveQueues.class);

    private final Map<String, UpstreamConnection> declaredOn = new LinkedHashMap<>(2);

    void declared(String queue, UpstreamConnection on) {
        declaredOn.put(queue, on);
    }

    void deleted(String queue) {
        declaredOn.remove(queue);
    }

    /**
     * Deletes them on channels of Warren's own, one per connection that owns some, pipelined after what the client
     * sent (open, deletes, close) so nothing waits; each channel's close-ok frees it.
     */
    void deleteAll(ClientSession session) {
        Map<UpstreamConnection, List<String>> byConnection = new LinkedHashMap<>();
        declaredOn.forEach((queue, on) -> byConnection.computeIfAbsent(on, c -> new ArrayList<>(2)).add(queue));
        declaredOn.clear();
        byConnection.forEach((on, names) -> delete(session, on, names));
    }

    private static void delete(ClientSession session, UpstreamConnection on, List<String> names) {
        if (on.state() != UpstreamConnection.State.READY) {
            log.debug("client {}: exclusive queues {} went with upstream {}", session.id(), names, on.id());
            return;
        }
        UpstreamChannel temp = on.allocate(session);
        if (temp == null) {
            log.warn("client {}: no channel free on upstream {} to delete its exclusive queues {}", session.id(),
                    on.id(), names);
            return;
        }
        PublishPath out = session.publish;
        Scrubber.awaitCloseOk(temp, session.loop());
        temp.open(out);
        for (String queue : names) {
            out.append(on, Frames.method(temp.number(), new QueueMethod.Delete(0, queue, false, false, false)));
        }
        temp.close(out, "exclusive queues deleted");
        log.debug("client {}: deleting exclusive queues {} on upstream {}", session.id(), names, on.id());
    }
}
