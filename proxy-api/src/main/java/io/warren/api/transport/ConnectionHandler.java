package io.warren.api.transport;

import java.nio.ByteBuffer;

/**
 * Receives a connection's events, always on the connection's event loop, never concurrently.
 */
public interface ConnectionHandler {
    /** The connection is established (accepted, or connected for an outgoing one). */
    default void onOpen(Connection connection) {}

    /**
     * Bytes arrived. {@code data} is valid only during this call (the transport reuses the buffer): consume what
     * can be used and copy what must be kept. Position and limit may be changed freely.
     */
    void onRead(Connection connection, ByteBuffer data);

    /** The write queue fell below the low-water mark after {@link Connection#write} had returned false. */
    default void onWritable(Connection connection) {}

    /**
     * The connection is closed (by either side) or could not be established. Called exactly once per handler.
     *
     * @param cause null for an orderly close, otherwise what went wrong (for a failed connect, the reason)
     */
    void onClose(Connection connection, Throwable cause);
}
