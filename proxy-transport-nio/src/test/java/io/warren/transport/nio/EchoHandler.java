package io.warren.transport.nio;

import io.warren.api.transport.Connection;
import java.nio.ByteBuffer;

/** Echoes what it reads, with back-pressure: pauses reading while the connection is not writable. */
class EchoHandler extends RecordingHandler {
    @Override
    void afterRead(Connection connection, byte[] bytes) {
        if (!connection.write(ByteBuffer.wrap(bytes))) {
            connection.setReadPaused(true);
        }
    }

    @Override
    public void onWritable(Connection connection) {
        super.onWritable(connection);
        connection.setReadPaused(false);
    }
}
