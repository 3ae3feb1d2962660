package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.warren.api.transport.Connection;
import io.warren.api.transport.TransportSettings;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BackPressureTest extends TransportTestSupport {
    private static final int HIGH = 64 * 1024;
    private static final int LOW = 16 * 1024;

    /**
     * A peer that does not read: writes eventually report false and the connection is not writable; once the peer
     * reads everything, onWritable is called exactly once and every byte arrived in order.
     */
    @ParameterizedTest(name = "writes on the loop: {0}")
    @ValueSource(booleans = {true, false})
    void stalledPeerMakesTheConnectionUnwritableUntilItReads(boolean writeOnLoop) throws Exception {
        start(new TransportSettings(2, HIGH, LOW, 128, Duration.ofSeconds(10)));
        listen(RecordingHandler::new);
        try (Socket peer = client(8 * 1024)) {
            RecordingHandler server = nextAccepted();
            Connection conn = server.connection();
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            int writablesWhileStalled = fillUntilStalled(conn, server, sent, writeOnLoop);
            assertThat(conn.isWritable()).isFalse();

            byte[] expected = sent.toByteArray();
            assertThat(readFully(peer.getInputStream(), expected.length)).isEqualTo(expected);
            await().atMost(WAIT).until(() -> server.writables.get() > writablesWhileStalled);
            roundTrip(conn.eventLoop());
            assertThat(server.writables.get()).isEqualTo(writablesWhileStalled + 1);
            assertThat(conn.isWritable()).isTrue();
            assertThat(conn.write(ByteBuffer.wrap(new byte[] {1}))).isTrue();
            assertThat(readFully(peer.getInputStream(), 1)).containsExactly(1);
            assertThat(server.calledOffLoop).isFalse();
        }
    }

    /**
     * setReadPaused(true) from inside onRead: no further onRead until resumed, then the rest arrives. Reads are capped
     * at 4 bytes, so the 12 bytes sent would otherwise arrive in three calls.
     */
    @ParameterizedTest(name = "pause from another thread: {0}")
    @ValueSource(booleans = {false, true})
    void pausedConnectionGetsNoReadsUntilResumed(boolean pauseFromOtherThread) throws Exception {
        start(settings(1), LoopConfig.DEFAULT.withReadSizeCap(4));
        AtomicInteger pauseAfterReads = new AtomicInteger(pauseFromOtherThread ? Integer.MAX_VALUE : 1);
        listen(() -> new RecordingHandler() {
            @Override
            void afterRead(Connection connection, byte[] bytes) {
                if (reads.get() == pauseAfterReads.get()) {
                    connection.setReadPaused(true);
                }
            }
        });
        try (Socket peer = client(); Socket other = client()) {
            RecordingHandler server = nextAccepted();
            RecordingHandler otherServer = nextAccepted();
            Connection conn = server.connection();
            int expectedWhilePaused = 4;
            if (pauseFromOtherThread) {
                conn.setReadPaused(true);
                expectedWhilePaused = 0;
            }
            peer.getOutputStream().write("abcdefghijkl".getBytes());
            // a barrier: the other connection on the same loop is served after the paused one's bytes arrived
            other.getOutputStream().write(new byte[] {1});
            await().atMost(WAIT).until(() -> otherServer.receivedCount() == 1);
            roundTrip(conn.eventLoop());
            assertThat(server.receivedCount()).isEqualTo(expectedWhilePaused);

            conn.setReadPaused(false);
            await().atMost(WAIT).until(() -> server.receivedCount() == 12);
            assertThat(new String(server.received())).isEqualTo("abcdefghijkl");
        }
    }
}
