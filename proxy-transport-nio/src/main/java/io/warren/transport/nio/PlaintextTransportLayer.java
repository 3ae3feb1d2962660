package io.warren.transport.nio;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Plain TCP: one-line delegates to the channel (after the bytes handed back by {@link #unread}, if any). */
final class PlaintextTransportLayer implements TransportLayer {
    private final SocketChannel channel;
    private ByteBuffer unread; // null when empty; in read mode

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
        if (unread == null) {
            return channel.read(dst);
        }
        int n = Math.min(unread.remaining(), dst.remaining());
        dst.put(dst.position(), unread, unread.position(), n).position(dst.position() + n);
        unread.position(unread.position() + n);
        if (!unread.hasRemaining()) {
            unread = null;
        }
        return n;
    }

    @Override
    public void unread(ByteBuffer bytes) {
        if (bytes.hasRemaining()) {
            unread = bytes;
        }
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
        return unread != null;
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
