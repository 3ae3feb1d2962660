package io.warren.transport.nio;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.cert.Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * TLS over one socket with an {@link SSLEngine}, without threads of its own: the handshake is a state machine
 * advanced by {@link #handshake()} on each selection (delegated tasks run inline on the loop), and application bytes
 * are wrapped on write and unwrapped on read.
 *
 * <p>States: {@code NOT_INITIALIZED} -> {@code HANDSHAKE} -> {@code READY} -> {@code CLOSED}; a failed handshake
 * throws from {@link #handshake()} (the connection then closes the layer).
 *
 * <p>Buffers (all kept in "write mode": bytes held are [0, position)): {@code netRead} encrypted bytes read from the
 * socket and not yet decrypted (a partial record); {@code appRead} decrypted bytes not yet delivered (when the
 * caller's buffer was smaller than a record); {@code netWrite} encrypted bytes not yet on the socket. Each is taken
 * from the loop's {@link TlsBufferPool} when needed, sized from the {@link SSLSession} and grown on
 * overflow/underflow, and given back as soon as it is empty: an idle TLS connection holds no buffer.
 *
 * <p>Reading: a peer's alert arrives as a read; when a socket write fails during the handshake, what the peer sent
 * is read and decrypted first so that the error says why (its alert) rather than "broken pipe".
 *
 * <p>Loop only: every method is called on the owning event loop's thread.
 */
final class SslTransportLayer implements TransportLayer {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    enum State { NOT_INITIALIZED, HANDSHAKE, READY, CLOSED }

    private final SocketChannel channel;
    private final SSLEngine engine;
    private final TlsBufferPool pool;
    private final int socketReadCap;
    private State state = State.NOT_INITIALIZED;
    private ByteBuffer netRead; // null when empty
    private ByteBuffer appRead; // null when empty
    private ByteBuffer netWrite; // null when empty
    private boolean needMoreNetBytes; // the last unwrap underflowed: wait for the socket
    private boolean inboundDone; // close_notify received, or end of stream

    /**
     * @param socketReadCap at most this many bytes per socket read (the test seam {@link LoopConfig#readSizeCap()}:
     *     small values force partial records, hence the underflow path)
     */
    SslTransportLayer(SocketChannel channel, SSLEngine engine, TlsBufferPool pool, int socketReadCap) {
        this.channel = channel;
        this.engine = engine;
        this.pool = pool;
        this.socketReadCap = socketReadCap;
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
        return state == State.READY;
    }

    State state() {
        return state;
    }

    SSLSession session() {
        return engine.getSession();
    }

    List<Certificate> peerCertificates() {
        try {
            return List.of(engine.getSession().getPeerCertificates());
        } catch (SSLPeerUnverifiedException e) {
            return List.of();
        }
    }

    /** The bytes become the start of netRead: the ClientHello's first bytes, typically. */
    @Override
    public void unread(ByteBuffer bytes) {
        if (!bytes.hasRemaining()) {
            return;
        }
        ensureNetRead();
        if (netRead.remaining() < bytes.remaining()) {
            netRead = grow(netRead, netRead.position() + bytes.remaining());
        }
        netRead.put(bytes);
        needMoreNetBytes = false;
    }

    // ---- handshake ------------------------------------------------------------------------------------------------

    @Override
    public void handshake() throws IOException {
        if (state == State.NOT_INITIALIZED) {
            engine.beginHandshake();
            state = State.HANDSHAKE;
        }
        if (state != State.HANDSHAKE) {
            return;
        }
        try {
            advanceHandshake();
        } catch (SSLException e) {
            sendAlertQuietly();
            throw e;
        } catch (IOException e) {
            SSLException alert = alertFromPeer();
            throw alert != null ? alert : e;
        }
    }

    /** Runs the handshake until it is done or must wait for the socket (readable, or writable again). */
    private void advanceHandshake() throws IOException {
        while (state == State.HANDSHAKE) {
            if (!flush()) {
                return; // OP_WRITE
            }
            HandshakeStatus status = engine.getHandshakeStatus();
            switch (status) {
                case NEED_TASK -> runDelegatedTasks();
                case NEED_WRAP -> {
                    if (!handshakeWrap()) {
                        return;
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (!handshakeUnwrap()) {
                        return; // OP_READ
                    }
                }
                case FINISHED, NOT_HANDSHAKING -> handshakeFinished();
                default -> throw new IllegalStateException("unexpected handshake status " + status);
            }
        }
    }

    /** Produces the next handshake message into netWrite; false when the socket must drain first. */
    private boolean handshakeWrap() throws IOException {
        ensureNetWrite();
        SSLEngineResult result = engine.wrap(EMPTY, netWrite);
        switch (result.getStatus()) {
            case OK -> {
                if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                    handshakeFinished(); // what is still in netWrite goes out before any application bytes
                }
                return true;
            }
            case BUFFER_OVERFLOW -> {
                if (netWrite.position() > 0) {
                    return flush(); // make room
                }
                netWrite = grow(netWrite, engine.getSession().getPacketBufferSize());
                return true;
            }
            case CLOSED -> throw new EOFException("the TLS engine closed during the handshake");
            default -> throw new IllegalStateException("wrap " + result);
        }
    }

    /** Consumes handshake bytes from the peer; false when the socket has nothing more for now. */
    private boolean handshakeUnwrap() throws IOException {
        if (netRead == null || netRead.position() == 0 || needMoreNetBytes) {
            int n = readFromSocket();
            if (n < 0) {
                throw new EOFException("the peer closed the connection during the TLS handshake");
            }
            if (n == 0) {
                return false;
            }
        }
        SSLEngineResult result = unwrapOnce();
        switch (result.getStatus()) {
            case OK -> {
                if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                    handshakeFinished();
                }
                return true;
            }
            case BUFFER_UNDERFLOW, BUFFER_OVERFLOW -> {
                return true; // unwrapOnce grew a buffer or noted that more bytes are needed
            }
            case CLOSED -> throw new EOFException("the peer closed the TLS session during the handshake");
            default -> throw new IllegalStateException("unwrap " + result);
        }
    }

    private void handshakeFinished() {
        state = State.READY;
        releaseEmptyBuffers();
    }

    private void runDelegatedTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run(); // inline: no extra threads (certificate checks and key exchange take a few milliseconds)
        }
    }

    /** After our engine failed: it may hold an alert for the peer (bad_certificate...). Best effort, once. */
    private void sendAlertQuietly() {
        try {
            engine.closeOutbound();
            ensureNetWrite();
            engine.wrap(EMPTY, netWrite);
            flush();
        } catch (IOException | RuntimeException ignored) {
            // the peer learns from the closed connection instead
        }
    }

    /** A socket error during the handshake: did the peer send an alert first? Returns it, or null. */
    private SSLException alertFromPeer() {
        try {
            for (int i = 0; i < 4 && readFromSocket() > 0; i++) {
                // gather what arrived
            }
            while (netRead != null && netRead.position() > 0) {
                SSLEngineResult r = unwrapOnce();
                if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesConsumed() == 0) {
                    break;
                }
            }
        } catch (SSLException e) {
            return e;
        } catch (IOException | RuntimeException ignored) {
            // nothing readable
        }
        return null;
    }

    // ---- read path --------------------------------------------------------------------------------------------

    /**
     * Delivers decrypted bytes into {@code dst}: first those left from the last call, then decrypts what is buffered
     * and what the socket has, until {@code dst} is full or the socket has no more. Returns -1 at the end (close_notify
     * or end of stream) once everything decrypted was delivered.
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (state != State.READY) {
            return 0;
        }
        int start = dst.position();
        try {
            while (dst.hasRemaining()) {
                if (appRead != null && appRead.position() > 0) {
                    deliver(dst);
                    continue;
                }
                if (inboundDone) {
                    break;
                }
                if (netRead != null && netRead.position() > 0 && !needMoreNetBytes) {
                    SSLEngineResult result = unwrapOnce();
                    afterReadyUnwrap(result);
                    continue;
                }
                int n = readFromSocket();
                if (n < 0) {
                    inboundDone = true;
                } else if (n == 0) {
                    break;
                }
            }
        } finally {
            releaseEmptyBuffers();
        }
        int delivered = dst.position() - start;
        return delivered == 0 && inboundDone ? -1 : delivered;
    }

    /** Post-handshake messages (TLS 1.3 session tickets, key updates) may ask for tasks or a reply. */
    private void afterReadyUnwrap(SSLEngineResult result) throws IOException {
        if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
            inboundDone = true;
        } else if (result.getStatus() == SSLEngineResult.Status.OK && result.bytesConsumed() == 0
                && result.bytesProduced() == 0) {
            needMoreNetBytes = true; // no progress: wait for the socket rather than spin
        }
        HandshakeStatus status = result.getHandshakeStatus();
        if (status == HandshakeStatus.NEED_TASK) {
            runDelegatedTasks();
            status = engine.getHandshakeStatus();
        }
        if (status == HandshakeStatus.NEED_WRAP && !inboundDone) {
            ensureNetWrite();
            engine.wrap(EMPTY, netWrite); // a key update reply: goes out with the next flush (OP_WRITE is kept)
            flush();
        }
    }

    /** Moves decrypted bytes from appRead to dst. */
    private void deliver(ByteBuffer dst) {
        appRead.flip();
        int n = Math.min(appRead.remaining(), dst.remaining());
        int limit = appRead.limit();
        appRead.limit(appRead.position() + n);
        dst.put(appRead);
        appRead.limit(limit);
        appRead.compact();
    }

    /**
     * One engine.unwrap from netRead into appRead. Underflow: a partial record, grow netRead if a record cannot fit
     * and wait for the socket. Overflow: grow appRead to the session's application buffer size (it is empty when this
     * is called from the read path; the caller delivers first).
     */
    private SSLEngineResult unwrapOnce() throws IOException {
        ensureAppRead();
        netRead.flip();
        SSLEngineResult result;
        try {
            result = engine.unwrap(netRead, appRead);
        } finally {
            netRead.compact();
        }
        switch (result.getStatus()) {
            case BUFFER_UNDERFLOW -> {
                needMoreNetBytes = true;
                int packet = engine.getSession().getPacketBufferSize();
                if (netRead.capacity() < packet) {
                    netRead = grow(netRead, packet);
                }
            }
            case BUFFER_OVERFLOW -> {
                int app = engine.getSession().getApplicationBufferSize();
                appRead = grow(appRead, Math.max(app, appRead.capacity() * 2));
            }
            default -> { } // OK, CLOSED: the caller decides
        }
        return result;
    }

    /** One socket read into netRead (capped); clears the underflow mark when bytes came. */
    private int readFromSocket() throws IOException {
        ensureNetRead();
        if (!netRead.hasRemaining()) {
            netRead = grow(netRead, netRead.capacity() * 2);
        }
        int limit = netRead.limit();
        netRead.limit(Math.min(limit, netRead.position() + socketReadCap));
        int n;
        try {
            n = channel.read(netRead);
        } finally {
            netRead.limit(limit);
        }
        if (n > 0) {
            needMoreNetBytes = false;
        }
        return n;
    }

    @Override
    public boolean hasBytesBuffered() {
        return (appRead != null && appRead.position() > 0)
                || (netRead != null && netRead.position() > 0 && !needMoreNetBytes && !inboundDone)
                || (inboundDone && state == State.READY); // the next read reports the end, even if TCP stays open
    }

    // ---- write path -----------------------------------------------------------------------------------------------

    @Override
    public long write(ByteBuffer src) throws IOException {
        return write(new ByteBuffer[] {src}, 0, 1);
    }

    /**
     * Encrypts application bytes while the socket takes them: returns how many plaintext bytes were consumed.
     * Encrypted bytes the socket did not take stay in netWrite ({@link #hasPendingWrites()}); no more plaintext is
     * taken until they are out.
     */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        if (state != State.READY) {
            throw new IllegalStateException("TLS write before the handshake completed (" + state + ")");
        }
        long consumed = 0;
        while (flush() && remaining(srcs, offset, length) > 0) {
            ensureNetWrite();
            SSLEngineResult result = engine.wrap(srcs, offset, length, netWrite);
            consumed += result.bytesConsumed();
            switch (result.getStatus()) {
                case OK -> { }
                case BUFFER_OVERFLOW -> {
                    if (netWrite.position() == 0) {
                        netWrite = grow(netWrite, engine.getSession().getPacketBufferSize());
                    }
                }
                case CLOSED -> throw new SSLException("the TLS session is closed");
                default -> throw new IllegalStateException("wrap " + result);
            }
        }
        return consumed;
    }

    /** Writes what netWrite holds; true when it is empty (and given back). */
    @Override
    public boolean flush() throws IOException {
        if (netWrite == null) {
            return true;
        }
        if (netWrite.position() > 0) {
            netWrite.flip();
            try {
                channel.write(netWrite);
            } finally {
                netWrite.compact();
            }
        }
        if (netWrite.position() == 0) {
            pool.give(netWrite);
            netWrite = null;
            return true;
        }
        return false;
    }

    @Override
    public boolean hasPendingWrites() {
        return netWrite != null && netWrite.position() > 0;
    }

    // ---- close ----------------------------------------------------------------------------------------------------

    /**
     * Without {@code reset}, after a completed handshake, sends close_notify if the socket takes it now (the
     * connection has already flushed its queue); then closes the socket and gives the buffers back.
     */
    @Override
    public void close(boolean reset) {
        if (state == State.CLOSED) {
            return;
        }
        if (!reset && state == State.READY && channel.isOpen()) {
            try {
                engine.closeOutbound();
                while (flush() && !engine.isOutboundDone()) {
                    ensureNetWrite();
                    SSLEngineResult r = engine.wrap(EMPTY, netWrite);
                    if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesProduced() == 0) {
                        flush();
                        break;
                    }
                }
            } catch (IOException | RuntimeException ignored) {
                // the peer will see the end of the stream instead
            }
        }
        state = State.CLOSED;
        if (reset && channel.isOpen()) {
            try {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            } catch (IOException | RuntimeException ignored) {
                // a plain close will do
            }
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // released either way
        }
        for (ByteBuffer b : new ByteBuffer[] {netRead, appRead, netWrite}) {
            if (b != null) {
                pool.give(b.clear());
            }
        }
        netRead = null;
        appRead = null;
        netWrite = null;
    }

    // ---- buffers --------------------------------------------------------------------------------------------------

    private void ensureNetRead() {
        if (netRead == null) {
            netRead = pool.take(engine.getSession().getPacketBufferSize());
        }
    }

    private void ensureAppRead() {
        if (appRead == null) {
            appRead = pool.take(engine.getSession().getApplicationBufferSize());
        }
    }

    private void ensureNetWrite() {
        if (netWrite == null) {
            netWrite = pool.take(engine.getSession().getPacketBufferSize());
        }
    }

    /** A larger buffer holding the same bytes ([0, position)); the old one goes back to the pool. */
    private ByteBuffer grow(ByteBuffer b, int capacity) {
        if (b.capacity() >= capacity) {
            return b;
        }
        ByteBuffer bigger = ByteBuffer.allocate(capacity);
        b.flip();
        bigger.put(b);
        pool.give(b.clear());
        return bigger;
    }

    private void releaseEmptyBuffers() {
        if (netRead != null && netRead.position() == 0) {
            pool.give(netRead);
            netRead = null;
            needMoreNetBytes = false;
        }
        if (appRead != null && appRead.position() == 0) {
            pool.give(appRead);
            appRead = null;
        }
    }

    private static long remaining(ByteBuffer[] srcs, int offset, int length) {
        long n = 0;
        for (int i = offset; i < offset + length; i++) {
            n += srcs[i].remaining();
        }
        return n;
    }
}
