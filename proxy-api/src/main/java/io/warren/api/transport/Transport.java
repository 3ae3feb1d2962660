package io.warren.api.transport;

import io.warren.api.Named;
import java.io.IOException;

/**
 * A network transport. Selected by name; the default is {@code nio} (selector event loops, one per core).
 *
 * <p>Implementations need a public no-argument constructor and a
 * {@code META-INF/services/io.warren.api.transport.Transport} entry.
 */
public interface Transport extends Named {
    /**
     * Starts the transport's threads.
     *
     * @throws IOException when a selector or thread cannot be created
     */
    NetworkRuntime start(TransportSettings settings) throws IOException;
}
