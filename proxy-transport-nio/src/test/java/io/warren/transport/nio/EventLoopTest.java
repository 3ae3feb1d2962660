package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.warren.api.transport.Connection;
import io.warren.api.transport.EventLoop;
import io.warren.api.transport.Transport;
import io.warren.api.transport.TransportSettings;
import java.io.OutputStream;
import java.net.Socket;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class EventLoopTest extends TransportTestSupport {

    @Test
    void executeRunsOnTheLoopThread() throws Exception {
        start(settings(3));
        List<EventLoop> loops = runtime.eventLoops();
        assertThat(loops).hasSize(3);
        for (int i = 0; i < loops.size(); i++) {
            EventLoop loop = loops.get(i);
            assertThat(loop.inEventLoop()).isFalse();
            CompletableFuture<Thread> ran = new CompletableFuture<>();
            loop.execute(() -> ran.complete(loop.inEventLoop() ? Thread.currentThread() : null));
            Thread t = ran.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(t).isNotNull();
            assertThat(t.getName()).isEqualTo("warren-loop-" + i);
            assertThat(t.isDaemon()).isFalse();
        }
    }

    @Test
    void defaultLoopCountIsTheProcessorCount() throws Exception {
        start(TransportSettings.defaults());
        assertThat(runtime.eventLoops()).hasSize(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void scheduledTasksRunOnTheLoopInDeadlineOrderAndCancelledOnesNever() throws Exception {
        start(settings(1));
        EventLoop loop = runtime.eventLoops().get(0);
        List<String> ran = new CopyOnWriteArrayList<>();
        AtomicBoolean offLoop = new AtomicBoolean();
        Runnable record = () -> {
            if (!loop.inEventLoop()) {
                offLoop.set(true);
            }
        };
        CompletableFuture<Void> last = new CompletableFuture<>();
        loop.schedule(() -> { record.run(); ran.add("b"); }, 40, TimeUnit.MILLISECONDS);
        EventLoop.Cancellable cancelled = loop.schedule(() -> ran.add("cancelled"), 20, TimeUnit.MILLISECONDS);
        loop.schedule(() -> { record.run(); ran.add("a"); }, 10, TimeUnit.MILLISECONDS);
        loop.schedule(() -> { record.run(); ran.add("c"); last.complete(null); }, 80, TimeUnit.MILLISECONDS);
        cancelled.cancel();

        last.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(ran).containsExactly("a", "b", "c");
        assertThat(offLoop).isFalse();
    }

    @Test
    void cancelFromTheLoopAndCancelAfterRunAreHarmless() throws Exception {
        start(settings(1));
        EventLoop loop = runtime.eventLoops().get(0);
        CompletableFuture<Void> done = new CompletableFuture<>();
        List<String> ran = new CopyOnWriteArrayList<>();
        loop.execute(() -> {
            EventLoop.Cancellable c = loop.schedule(() -> ran.add("cancelled"), 0, TimeUnit.MILLISECONDS);
            c.cancel();
            loop.schedule(() -> {
                ran.add("ran");
                done.complete(null);
            }, 1, TimeUnit.MILLISECONDS);
        });
        done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        EventLoop.Cancellable already = loop.schedule(() -> ran.add("zero"), 0, TimeUnit.MILLISECONDS);
        roundTrip(loop);
        CompletableFuture<Void> after = new CompletableFuture<>();
        loop.schedule(() -> after.complete(null), 1, TimeUnit.MILLISECONDS);
        after.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        already.cancel(); // ran already: nothing happens
        assertThat(ran).containsExactly("ran", "zero");
    }

    @Test
    void aFailingTaskDoesNotStopTheLoop() throws Exception {
        start(settings(1));
        EventLoop loop = runtime.eventLoops().get(0);
        loop.execute(() -> {
            throw new IllegalStateException("task failure (expected by the test)");
        });
        loop.schedule(() -> {
            throw new IllegalStateException("timer failure (expected by the test)");
        }, 1, TimeUnit.MILLISECONDS);
        CompletableFuture<Void> later = new CompletableFuture<>();
        loop.schedule(() -> later.complete(null), 5, TimeUnit.MILLISECONDS);
        later.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        roundTrip(loop);
    }

    @Test
    void theTransportIsFoundByNameThroughServiceLoader() throws Exception {
        Transport nio = ServiceLoader.load(Transport.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(t -> t.name().equals("nio"))
                .findFirst()
                .orElseThrow();
        assertThat(nio).isInstanceOf(NioTransport.class);
        try (var rt = nio.start(settings(1))) {
            assertThat(rt.eventLoops()).hasSize(1);
        }
    }

    /** Keeps the loop busy so that what the clients send next is ready at once at its next select: one batch. */
    private static void holdLoop(EventLoop loop, CompletableFuture<Void> release) {
        CompletableFuture<Void> holding = new CompletableFuture<>();
        loop.execute(() -> {
            holding.complete(null);
            release.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
        });
        holding.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
    }

    private static void send(Socket s, int b) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(b);
        out.flush();
    }

    @Test
    void aHandlerThatThrowsClosesItsConnectionOnlyAndTheLoopGoesOn() throws Exception {
        start(settings(1));
        EventLoop loop = runtime.eventLoops().get(0);
        listen(() -> new EchoHandler() {
            @Override
            void afterRead(Connection connection, byte[] bytes) {
                if (bytes[0] == 'x') {
                    throw new IllegalStateException("handler failure (expected by the test)");
                }
                super.afterRead(connection, bytes);
            }
        });
        Socket failing = client();
        RecordingHandler failingServer = nextAccepted();
        Socket echoing = client();
        RecordingHandler echoingServer = nextAccepted();
        CompletableFuture<Void> release = new CompletableFuture<>();
        holdLoop(loop, release);
        send(failing, 'x');
        send(echoing, 'y');
        Thread.sleep(100); // lets both bytes arrive while the loop is held: not a measurement
        release.complete(null);
        assertThat(echoing.getInputStream().read()).isEqualTo('y');
        awaitClosed(failingServer);
        assertThat(failingServer.closed.join()).hasMessageContaining("expected by the test");
        assertThat(echoingServer.closes.get()).isZero();
        send(echoing, 'z');
        assertThat(echoing.getInputStream().read()).isEqualTo('z');
        roundTrip(loop);
    }

    @Test
    void aConnectionAnotherHandlerClosedIsNotServedAndTheLoopGoesOn() throws Exception {
        start(settings(1));
        EventLoop loop = runtime.eventLoops().get(0);
        AtomicReference<RecordingHandler> first = new AtomicReference<>();
        List<RecordingHandler> servers = new CopyOnWriteArrayList<>();
        listen(() -> new RecordingHandler() {
            @Override
            void afterRead(Connection connection, byte[] bytes) {
                if (first.compareAndSet(null, this)) {
                    for (RecordingHandler other : servers) {
                        if (other != this) {
                            other.connection().abort(); // the other key is likely ready in this very batch
                        }
                    }
                }
            }
        });
        Socket a = client();
        servers.add(nextAccepted());
        Socket b = client();
        servers.add(nextAccepted());
        CompletableFuture<Void> release = new CompletableFuture<>();
        holdLoop(loop, release);
        send(a, 1);
        send(b, 2);
        Thread.sleep(100); // lets both bytes arrive while the loop is held: not a measurement
        release.complete(null);
        await().atMost(WAIT).until(() -> servers.stream().anyMatch(h -> h.closes.get() > 0));
        roundTrip(loop); // the loop survived the cancelled key
        assertThat(servers.stream().mapToInt(h -> h.reads.get()).sum()).isEqualTo(1);
        assertThat(first.get().closes.get()).isZero();
        CompletableFuture<Void> later = new CompletableFuture<>();
        loop.schedule(() -> later.complete(null), 1, TimeUnit.MILLISECONDS);
        later.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
}
