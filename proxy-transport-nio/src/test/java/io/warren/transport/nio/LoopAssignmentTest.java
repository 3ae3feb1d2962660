package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.api.transport.EventLoop;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Which loop an accepted connection goes to: the one with the fewest accepted connections open, and the acceptor loop
 * (loop 0) when none has fewer, so that short-lived clients one after another never wake the other loop's thread.
 */
class LoopAssignmentTest extends TransportTestSupport {

    @Test
    void clientsOneAfterAnotherStayOnTheAcceptorLoop() throws Exception {
        start(settings(2));
        listen(EchoHandler::new);
        EventLoop acceptor = runtime.eventLoops().get(0);
        for (int i = 0; i < 6; i++) {
            Socket s = client();
            RecordingHandler h = nextAccepted();
            assertThat(h.connection().eventLoop()).as("client %d", i).isSameAs(acceptor);
            s.close();
            h.closed.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join(); // its loop no longer counts it
        }
    }

    @Test
    void clientsHeldAtOnceSpreadAndNewOnesGoWhereFewerAreOpen() throws Exception {
        start(settings(2));
        listen(EchoHandler::new);
        EventLoop loop0 = runtime.eventLoops().get(0);
        Map<EventLoop, List<Socket>> held = new HashMap<>();
        Map<EventLoop, List<RecordingHandler>> handlers = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            Socket s = client();
            RecordingHandler h = nextAccepted();
            EventLoop loop = h.connection().eventLoop();
            held.computeIfAbsent(loop, l -> new ArrayList<>()).add(s);
            handlers.computeIfAbsent(loop, l -> new ArrayList<>()).add(h);
        }
        assertThat(held.values()).allSatisfy(sockets -> assertThat(sockets).hasSize(5));

        for (Socket s : held.get(loop0)) {
            s.close();
        }
        for (RecordingHandler h : handlers.get(loop0)) {
            h.closed.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
        }
        // loop 0 holds none now and the other loop 5: the next 5 clients all go to loop 0, held or not
        for (int i = 0; i < 5; i++) {
            client();
            assertThat(nextAccepted().connection().eventLoop()).as("client %d after the closes", i).isSameAs(loop0);
        }
        assertThat(nextAcceptedLoopOfNewClient()).as("5 and 5: a tie stays on the acceptor").isSameAs(loop0);
        assertThat(nextAcceptedLoopOfNewClient()).as("6 and 5: the other loop").isNotSameAs(loop0);
    }

    private EventLoop nextAcceptedLoopOfNewClient() throws Exception {
        client();
        return nextAccepted().connection().eventLoop();
    }
}
