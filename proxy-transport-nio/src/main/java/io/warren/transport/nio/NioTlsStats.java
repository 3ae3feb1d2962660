package io.warren.transport.nio;

import io.warren.api.transport.TlsHandshakeOutcome;
import io.warren.api.transport.TlsSide;
import io.warren.api.transport.TlsStats;
import java.util.concurrent.atomic.LongAdder;

/** Handshake counters of one runtime. Thread-safe. */
final class NioTlsStats implements TlsStats {
    private final LongAdder[][] counts = new LongAdder[TlsSide.values().length][TlsHandshakeOutcome.values().length];

    NioTlsStats() {
        for (LongAdder[] row : counts) {
            for (int i = 0; i < row.length; i++) {
                row[i] = new LongAdder();
            }
        }
    }

    void record(TlsSide side, TlsHandshakeOutcome outcome) {
        counts[side.ordinal()][outcome.ordinal()].increment();
    }

    @Override
    public long handshakes(TlsSide side, TlsHandshakeOutcome outcome) {
        return counts[side.ordinal()][outcome.ordinal()].sum();
    }
}
