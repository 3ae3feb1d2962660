package io.warren.core.internal.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.warren.core.internal.stats.EngineStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/** The engine-wide budget of held messages ({@link MessageBudget}): reservations, FIFO waiting, gauges. */
class MessageBudgetTest {
    private final EngineStats stats = new EngineStats();
    private final MessageBudget budget = new MessageBudget(1000, stats);
    /** Grants run here when the test says so, as an event loop would run them later. */
    private final List<Runnable> loop = new ArrayList<>();
    private final Executor queued = loop::add;
    private final List<String> granted = new ArrayList<>();

    private void runLoop() {
        List<Runnable> tasks = new ArrayList<>(loop);
        loop.clear();
        tasks.forEach(Runnable::run);
    }

    @Test
    void waitersAreGrantedInOrderAndSmallOnesDoNotOvertakeALargeOne() {
        assertThat(budget.tryReserve(700, false)).isTrue();
        budget.await(600, queued, n -> granted.add("large " + n));
        // 200 would fit, but the large waiter came first: FIFO, so it is not starved by small ones.
        assertThat(budget.tryReserve(200, false)).isFalse();
        budget.await(200, queued, n -> granted.add("small " + n));
        assertThat(stats.messageBufferWaitingClients()).isEqualTo(2);
        assertThat(stats.messageBufferBytes()).isEqualTo(700);

        budget.release(700);
        runLoop();
        assertThat(granted).containsExactly("large 600", "small 200");
        assertThat(stats.messageBufferBytes()).isEqualTo(800);
        assertThat(stats.messageBufferWaitingClients()).isZero();
        budget.release(600);
        budget.release(200);
        assertThat(budget.reserved()).isZero();
        assertThat(stats.messageBufferBytes()).isZero();
        assertThat(stats.peakMessageBufferBytes()).isEqualTo(800);
    }

    @Test
    void aClientThatAlreadyHoldsOneTakesWhatFitsAheadOfWaitersButNeverMore() {
        assertThat(budget.tryReserve(400, false)).isTrue();
        budget.await(700, queued, n -> granted.add("waiter"));
        // It may not wait behind a waiter that waits for its own release: it goes first if it fits...
        assertThat(budget.tryReserve(500, true)).isTrue();
        // ...and is refused (the caller closes it) if it does not.
        assertThat(budget.tryReserve(200, true)).isFalse();
        budget.release(400);
        budget.release(500);
        runLoop();
        assertThat(granted).containsExactly("waiter");
        assertThat(budget.reserved()).isEqualTo(700);
    }

    @Test
    void aCancelledWaiterNoLongerBlocksThoseBehindIt() {
        assertThat(budget.tryReserve(500, false)).isTrue();
        MessageBudget.Waiter large = budget.await(900, queued, n -> granted.add("large"));
        budget.await(300, queued, n -> granted.add("small"));
        runLoop();
        assertThat(granted).isEmpty();
        budget.cancel(large);
        runLoop();
        assertThat(granted).containsExactly("small");
        assertThat(budget.reserved()).isEqualTo(800);
        assertThat(budget.waiting()).isZero();
    }

    @Test
    void nothingLargerThanTheWholeBudgetIsQueuedAndOverReleaseIsCaught() {
        assertThatThrownBy(() -> budget.await(1001, queued, n -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("can never fit in 1000");
        assertThat(budget.tryReserve(1001, false)).isFalse();
        assertThatThrownBy(() -> budget.release(1)).isInstanceOf(IllegalStateException.class);
        assertThat(budget.reserved()).isZero();
    }
}
