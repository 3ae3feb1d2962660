package io.warren.core.internal.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.api.transport.EventLoop;
import io.warren.core.internal.stats.EngineStats;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Pause and resume of virtual hosts, and the bound they share with clients held for a node. */
class VhostPausesTest {
    /** Runs tasks when asked; timers fire when asked. */
    private static final class ManualLoop implements EventLoop {
        final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        final List<Runnable> timers = new ArrayList<>();
        int cancelled;

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        @Override
        public Cancellable schedule(Runnable task, long delay, TimeUnit unit) {
            timers.add(task);
            return () -> cancelled++;
        }

        @Override
        public boolean inEventLoop() {
            return true;
        }

        void runTasks() {
            Runnable r;
            while ((r = tasks.poll()) != null) {
                r.run();
            }
        }
    }

    private final ManualLoop loop = new ManualLoop();
    private final EngineStats stats = new EngineStats();
    private final AtomicInteger max = new AtomicInteger(10);
    private final HeldClients held = new HeldClients(max::get, stats);
    private final VhostPauses pauses = new VhostPauses(held);
    private final AtomicInteger resumed = new AtomicInteger();
    private final AtomicInteger timedOut = new AtomicInteger();

    private EventLoop.Cancellable await(String vhost) {
        return pauses.await(loop, vhost, 1_000_000_000L, resumed::incrementAndGet, timedOut::incrementAndGet);
    }

    @Test
    void aResumeReleasesExactlyTheClientsOfThatVhostOnTheirLoop() {
        assertThat(pauses.pause("a")).isTrue();
        assertThat(pauses.pause("a")).isFalse();
        assertThat(pauses.pause("b/c")).isTrue();
        assertThat(await("a")).isNotNull();
        assertThat(await("a")).isNotNull();
        assertThat(await("b/c")).isNotNull();
        assertThat(pauses.held("a")).isEqualTo(2);
        assertThat(stats.heldClients()).isEqualTo(3);

        assertThat(pauses.resume("a")).isEqualTo(2);
        assertThat(resumed).as("not before the loop runs them").hasValue(0);
        loop.runTasks();
        assertThat(resumed).hasValue(2);
        assertThat(loop.cancelled).as("their timers").isEqualTo(2);
        assertThat(pauses.held("b/c")).isEqualTo(1);
        assertThat(stats.heldClients()).isEqualTo(1);
        assertThat(pauses.paused()).containsExactly("b/c");
        assertThat(pauses.resume("a")).as("not paused").isEqualTo(-1);
    }

    @Test
    void aClientOfAVhostThatIsNotPausedIsNotHeld() {
        assertThat(await("a")).isNull();
        assertThat(pauses.isPaused("a")).isFalse();
        assertThat(stats.heldClients()).isZero();
    }

    @Test
    void theTimerRefusesTheClientOnceAndAResumeAfterItReleasesNobody() {
        pauses.pause("a");
        await("a");
        loop.timers.get(0).run();
        assertThat(timedOut).hasValue(1);
        assertThat(pauses.held("a")).isZero();
        assertThat(pauses.resume("a")).isZero();
        loop.runTasks();
        assertThat(resumed).hasValue(0);
    }

    @Test
    void aCancelledHoldIsNeitherReleasedNorTimedOut() {
        pauses.pause("a");
        await("a").cancel();
        assertThat(loop.cancelled).isEqualTo(1);
        loop.timers.get(0).run();
        assertThat(pauses.resume("a")).isZero();
        loop.runTasks();
        assertThat(resumed).hasValue(0);
        assertThat(timedOut).hasValue(0);
    }

    @Test
    void heldClientsOfEveryKindTogetherStayWithinTheBoundReadAtEachHold() {
        max.set(2);
        pauses.pause("a");
        Object node = new Object();
        assertThat(held.hold(loop, node, 1_000_000L, () -> true, () -> { }, () -> { })).isNotNull();
        assertThat(await("a")).isNotNull();
        assertThat(await("a")).as("the third").isNull();
        max.set(3); // a reload
        assertThat(await("a")).isNotNull();
        assertThat(held.count(node)).isEqualTo(1);
        assertThat(held.release(tag -> tag == node)).isEqualTo(1);
        assertThat(pauses.held("a")).isEqualTo(2);
    }
}
