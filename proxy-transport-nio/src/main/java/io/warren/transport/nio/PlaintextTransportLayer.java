package io.warren.transport.nio;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Plain TCP: one-line delegates to the channel. */
final class PlaintextTransportLayer implements TransportLayer {
    private final SocketChannel channel;

    PlaintextTransportLayer(SocketChannel channel) {
        this.channel = channel;
    }

    @Override
    public SocketChannel channel() {
        return channel;
    }

    @Override
    public boolean finishConnect() throws IOException {
        return channel.finishConnect();
    }

    @Override
    public boolean ready() {
        return true;
    }

    @Override
    public void handshake() {}

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    @Override
    public long write(ByteBuffer src) throws IOException {
        return channel.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        return channel.write(srcs, offset, length);
    }

    @Override
    public boolean flush() {
        return true;
    }

    @Override
    public boolean hasPendingWrites() {
        return false;
    }

    @Override
    public boolean hasBytesBuffered() {
        return false;
    }

    @Override
    public void close(boolean reset) {
        if (reset && channel.isOpen()) {
            try {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            } catch (IOException | RuntimeException ignored) {
                // not connected or already broken: a plain close will do
            }
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing useful to do: the descriptor is released either way
        }
    }
}
