package io.warren.transport.nio;

import io.warren.api.transport.NetworkRuntime;
import io.warren.api.transport.Transport;
import io.warren.api.transport.TransportSettings;
import java.io.IOException;
import java.util.Objects;

/** The default transport, {@code nio}: selector event loops, one per core unless configured otherwise. */
public final class NioTransport implements Transport {
    /** The name operators use in the configuration. */
    public static final String NAME = "nio";

    /** Called by {@link java.util.ServiceLoader}. */
    public NioTransport() {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public NetworkRuntime start(TransportSettings settings) throws IOException {
        return NioRuntime.start(Objects.requireNonNull(settings, "settings"), LoopConfig.DEFAULT);
    }
}
