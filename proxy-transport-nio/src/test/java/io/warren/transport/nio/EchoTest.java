package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EchoTest extends TransportTestSupport {
    private static final int[] ODD_CHUNKS = {1, 7, 333, 4099, 65537, 2, 1023, 17};

    /** readSizeCap 65536 is the default; 13 makes every read short and forces many onRead calls per message. */
    @ParameterizedTest(name = "readSizeCap={0}")
    @ValueSource(ints = {65536, 13})
    void echoesOneMegabyteInOddChunks(int readSizeCap) throws Exception {
        start(settings(2), LoopConfig.DEFAULT.withReadSizeCap(readSizeCap));
        listen(EchoHandler::new);
        byte[] payload = new byte[1024 * 1024];
        new Random(42).nextBytes(payload);

        try (Socket s = client()) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> writeInChunks(s, payload));
            byte[] echoed = readFully(s.getInputStream(), payload.length);
            writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(echoed).isEqualTo(payload);
        }
        RecordingHandler server = nextAccepted();
        assertThat(server.calledOffLoop).isFalse();
        if (readSizeCap == 13) {
            assertThat(server.reads.get()).isGreaterThanOrEqualTo(payload.length / 13);
        }
    }

    @Test
    void servesTwoHundredConcurrentConnectionsRoundRobinAcrossLoops() throws Exception {
        start(settings(4));
        listen(EchoHandler::new);
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            sockets.add(client());
        }
        List<RecordingHandler> handlers = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            handlers.add(nextAccepted());
        }
        CountDownLatch done = new CountDownLatch(200);
        List<CompletableFuture<Void>> exchanges = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            Socket s = sockets.get(i);
            byte[] message = ("hello from client " + i + " ").repeat(50).getBytes();
            exchanges.add(CompletableFuture.runAsync(() -> {
                try {
                    s.getOutputStream().write(message);
                    assertThat(readFully(s.getInputStream(), message.length)).isEqualTo(message);
                    done.countDown();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        assertThat(done.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        exchanges.forEach(CompletableFuture::join);

        Map<String, Integer> perLoop = new HashMap<>();
        for (RecordingHandler h : handlers) {
            perLoop.merge(h.loopThread.getName(), 1, Integer::sum);
        }
        assertThat(perLoop).containsOnlyKeys("warren-loop-0", "warren-loop-1", "warren-loop-2", "warren-loop-3");
        assertThat(perLoop.values()).containsOnly(50);
    }

    @Test
    void keepsEachProducerThreadsWritesInOrder() throws Exception {
        start(settings(2));
        listen(RecordingHandler::new);
        int producers = 4;
        int perProducer = 5_000;
        try (Socket s = client()) {
            var conn = nextAccepted().connection();
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int id = p;
                Thread t = new Thread(() -> {
                    for (int seq = 0; seq < perProducer; seq++) {
                        conn.write(ByteBuffer.allocate(8).putInt(id).putInt(seq).flip());
                    }
                });
                threads.add(t);
                t.start();
            }
            ByteBuffer all = ByteBuffer.wrap(readFully(s.getInputStream(), producers * perProducer * 8));
            for (Thread t : threads) {
                t.join();
            }
            Map<Integer, Integer> next = new ConcurrentHashMap<>();
            while (all.hasRemaining()) {
                int id = all.getInt();
                int seq = all.getInt();
                assertThat(seq).as("producer %d", id).isEqualTo(next.getOrDefault(id, 0));
                next.put(id, seq + 1);
            }
            assertThat(next).hasSize(producers).allSatisfy((id, n) -> assertThat(n).isEqualTo(perProducer));
        }
    }

    private static void writeInChunks(Socket s, byte[] payload) {
        try {
            OutputStream out = s.getOutputStream();
            int off = 0;
            for (int i = 0; off < payload.length; i++) {
                int n = Math.min(ODD_CHUNKS[i % ODD_CHUNKS.length], payload.length - off);
                out.write(payload, off, n);
                off += n;
            }
            out.flush();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

}
