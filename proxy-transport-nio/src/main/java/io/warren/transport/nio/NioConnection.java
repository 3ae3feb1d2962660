package io.warren.transport.nio;

import io.warren.api.transport.Connection;
import io.warren.api.transport.ConnectionHandler;
import io.warren.api.transport.EventLoop;
import io.warren.api.transport.NetworkRuntime.HandlerFactory;
import io.warren.api.transport.ProxyProtocol;
import io.warren.tls.PemTls;
import io.warren.api.transport.TlsHandshakeOutcome;
import io.warren.api.transport.TlsSide;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnresolvedAddressException;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TCP connection: its life cycle and read path. The write path is {@link WriteQueue}; socket I/O goes through a
 * {@link TransportLayer}.
 *
 * <p>Threading: owned by one {@link NioEventLoop}. Fields marked "loop only" are touched on that thread alone;
 * the public {@link Connection} methods may be called from any thread and hop to the loop when needed.
 *
 * <p>States (changed on the loop only): {@code CONNECTING} (outgoing, not yet connected; or accepted, not yet
 * registered) -> {@code PROXY_HEADER} (accepted on a listener that reads PROXY protocol headers: the header is read
 * from the socket, before any TLS or AMQP byte, bounded by the connect timeout, which also covers the TLS handshake
 * after it) -> {@code HANDSHAKING} (TLS only: the handshake runs; bounded by the connect timeout, which for an
 * outgoing connection covers connect and handshake together) -> {@code OPEN} -> {@code CLOSING} (close() asked: flushing what is queued, reads stopped, bounded by
 * {@link LoopConfig#closeFlushTimeout()}) -> {@code CLOSED}. Any state may go straight to {@code CLOSED} (abort, I/O
 * error, handler failure, peer closed, shutdown). {@link ConnectionHandler#onClose} is called once, on the move to
 * {@code CLOSED}: with null for an orderly close by either side and for {@link #abort()}, otherwise with the cause.
 *
 * <p>Read pausing ({@link #setReadPaused}): every transition is legal from any thread in any state and the calls are
 * idempotent (a flag, not a counter: the last call wins). Pausing while {@code CONNECTING} takes effect when the
 * connection opens; in {@code CLOSING} and {@code CLOSED} reads are off anyway. No {@code onRead} starts after
 * {@code setReadPaused(true)} has returned; bytes that arrive meanwhile wait in the kernel (TCP back-pressure) and
 * are delivered after {@code setReadPaused(false)}.
 *
 * <p>TLS: {@code onOpen} follows the completed handshake. An accepted TLS connection gets its handler only then: a
 * client that fails the handshake is closed without the handler factory ever hearing of it (it is counted in the
 * runtime's {@link NioTlsStats}). An outgoing one that fails tells its handler through {@code onClose} with an
 * {@link SSLHandshakeException} whose message says why ({@code "TLS handshake with 10.0.0.5:5671 failed: certificate
 * expired on ..."}). Decrypted bytes the layer holds after a read (the socket will not signal them) put the connection
 * in the loop's set of connections with buffered bytes, which the loop serves without waiting in select.
 */
final class NioConnection implements Connection, Selectable {
    private static final Logger log = LoggerFactory.getLogger(NioConnection.class);
    private static final AtomicLong IDS = new AtomicLong();

    private enum State { CONNECTING, PROXY_HEADER, HANDSHAKING, OPEN, CLOSING, CLOSED }

    private final long id = IDS.incrementAndGet();
    private final NioEventLoop loop;
    /** The client's: the socket's peer, or the address a PROXY header named (set before the handler exists). */
    private volatile InetSocketAddress remote;
    private volatile InetSocketAddress proxiedBy; // the socket's peer, when a PROXY header named another address
    private final WriteQueue writes;
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private final Runnable flushTask = this::flushFromTask;
    private volatile InetSocketAddress local;
    private volatile State state = State.CONNECTING;
    private volatile boolean readPaused;
    private volatile boolean closeRequested; // close() or abort() was called: later writes are dropped
    private final TlsEndpoint tls; // null: plain TCP
    private final NioTlsStats tlsStats; // null: plain TCP
    private final Duration handshakeTimeout;
    private volatile List<Certificate> peerCertificates = List.of(); // set once the TLS handshake is done
    private volatile String tlsProtocol; // set once the TLS handshake is done

    private TransportLayer layer; // loop only (set before registration)
    private SelectionKey key; // loop only
    private ConnectionHandler handler; // loop only
    private int interestOps; // loop only: mirrors key.interestOps()
    private EventLoop.Cancellable timer; // loop only: the connect timeout or the close bound
    private boolean closeNotified; // loop only
    private HandlerFactory pendingFactory; // loop only: an accepted TLS connection's, until the handshake is done
    private boolean handshakeCounted; // loop only
    private final ProxyProtocol proxyProtocol; // OFF for outgoing connections
    private final InetSocketAddress listenerAddress; // null for outgoing connections; for log lines
    private ProxyHeaderReader headerReader; // loop only: while in PROXY_HEADER
    /** Counted in its loop's {@link NioEventLoop#acceptedOpen} until it closes (set before it reaches the loop). */
    private boolean countedOnLoop;

    private NioConnection(NioEventLoop loop, InetSocketAddress remote, int highWaterMark, int lowWaterMark,
            TlsEndpoint tls, NioTlsStats tlsStats, Duration handshakeTimeout, ProxyProtocol proxyProtocol,
            InetSocketAddress listenerAddress) {
        this.proxyProtocol = proxyProtocol;
        this.listenerAddress = listenerAddress;
        this.loop = loop;
        this.remote = remote;
        this.writes = new WriteQueue(highWaterMark, lowWaterMark);
        this.tls = tls;
        this.tlsStats = tlsStats;
        this.handshakeTimeout = handshakeTimeout;
    }

    /** An accepted plain socket (already configured) that {@link #openAccepted} will register on {@code loop}. */
    static NioConnection accepted(NioEventLoop loop, SocketChannel channel, int high, int low) throws IOException {
        return accepted(loop, channel, high, low, null, null, Duration.ofSeconds(10));
    }

    /**
     * An accepted socket (already configured) that {@link #openAccepted} will register on {@code loop}; with a
     * {@code tls} endpoint (server side) it must complete a TLS handshake within {@code handshakeTimeout} first.
     */
    static NioConnection accepted(NioEventLoop loop, SocketChannel channel, int high, int low, TlsEndpoint tls,
            NioTlsStats stats, Duration handshakeTimeout) throws IOException {
        return accepted(loop, channel, high, low, tls, stats, handshakeTimeout, ProxyProtocol.OFF, null);
    }

    /**
     * An accepted socket as above, on a listener at {@code listenerAddress} that reads PROXY protocol headers as
     * {@code proxyProtocol} says: the header (and then the TLS handshake) must be complete within
     * {@code handshakeTimeout}.
     */
    static NioConnection accepted(NioEventLoop loop, SocketChannel channel, int high, int low, TlsEndpoint tls,
            NioTlsStats stats, Duration handshakeTimeout, ProxyProtocol proxyProtocol,
            InetSocketAddress listenerAddress) throws IOException {
        NioConnection c = new NioConnection(loop, (InetSocketAddress) channel.getRemoteAddress(), high, low, tls,
                stats, handshakeTimeout, Objects.requireNonNull(proxyProtocol, "proxyProtocol"), listenerAddress);
        c.layer = c.newLayer(channel);
        c.local = (InetSocketAddress) channel.getLocalAddress();
        return c;
    }

    /** An outgoing plain connection that {@link #startConnect} will dial on {@code loop}. */
    static NioConnection outgoing(NioEventLoop loop, InetSocketAddress remote, ConnectionHandler handler,
            int high, int low) {
        return outgoing(loop, remote, handler, high, low, null, null);
    }

    /** An outgoing connection, TLS when {@code tls} (client side) is given, that {@link #startConnect} will dial. */
    static NioConnection outgoing(NioEventLoop loop, InetSocketAddress remote, ConnectionHandler handler,
            int high, int low, TlsEndpoint tls, NioTlsStats stats) {
        NioConnection c = new NioConnection(loop, remote, high, low, tls, stats, null, ProxyProtocol.OFF, null);
        c.handler = handler;
        return c;
    }

    private TransportLayer newLayer(SocketChannel channel) {
        if (tls == null) {
            return new PlaintextTransportLayer(channel);
        }
        return new SslTransportLayer(channel, tls.newEngine(remote), loop.tlsBuffers(), loop.config().readSizeCap());
    }

    static void configure(SocketChannel channel) throws IOException {
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
    }

    // ---- Connection -------------------------------------------------------------------------------------------

    @Override
    public long id() {
        return id;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    @Override
    public Optional<InetSocketAddress> proxiedBy() {
        return Optional.ofNullable(proxiedBy);
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public EventLoop eventLoop() {
        return loop;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Returns {@link #isWritable()} as it stands after queuing: false from the moment the queued bytes passed the
     * high-water mark until {@code onWritable}; false also when the write was dropped (close() or abort() was
     * called, or the connection is closed). Never pass the buffer given to {@code onRead}, or a view of it: it
     * belongs to the loop (the buffer itself is rejected with an IllegalArgumentException; views cannot be detected).
     * On the loop, with nothing else queued, the bytes are written at once, without a selector round trip.
     */
    @Override
    public boolean write(ByteBuffer data) {
        Objects.requireNonNull(data, "data");
        if (loop.isReadBuffer(data)) {
            throw new IllegalArgumentException("the buffer given to onRead belongs to the transport: copy it");
        }
        if (closeRequested || state == State.CLOSED) {
            return false; // dropped, as documented
        }
        if (!data.hasRemaining()) {
            return writes.isWritable();
        }
        if (!loop.inEventLoop()) {
            boolean writable = writes.offerFromOtherThread(data);
            scheduleFlush();
            return writable;
        }
        writes.addFromLoop(data);
        if (state == State.OPEN && !waitingForOpWrite()) {
            boolean wasWritable = writes.isWritable();
            flushNow();
            if (!wasWritable && state == State.OPEN && writes.isBelowLowWaterMark()) {
                loop.execute(this::notifyWritableIfDrained); // never call onWritable from inside write()
            }
        }
        return state != State.CLOSED && writes.checkHighWaterMark(); // CLOSED: the inline flush failed
    }

    @Override
    public boolean isWritable() {
        return writes.isWritable();
    }

    @Override
    public long queuedBytes() {
        return writes.queuedBytes();
    }

    @Override
    public void setReadPaused(boolean paused) {
        readPaused = paused;
        onLoop(this::updateInterestOps);
    }

    @Override
    public void close() {
        closeRequested = true;
        onLoop(this::beginClose);
    }

    /** {@inheritDoc} The handler's {@code onClose} gets a null cause: the caller knows why it aborted. */
    @Override
    public void abort() {
        closeRequested = true;
        onLoop(() -> closeNow(null, true));
    }

    @Override
    public boolean isOpen() {
        return state == State.OPEN && !closeRequested;
    }

    @Override
    public boolean isTls() {
        return tls != null;
    }

    @Override
    public List<Certificate> peerCertificates() {
        return peerCertificates;
    }

    @Override
    public Optional<String> tlsProtocol() {
        return Optional.ofNullable(tlsProtocol);
    }

    @Override
    public String toString() {
        InetSocketAddress via = proxiedBy;
        return "conn#" + id + " " + Addresses.format(remote) + (via == null ? "" : " via " + Addresses.format(via));
    }

    // ---- life cycle (loop only) ----------------------------------------------------------------------------------

    /** Registers an accepted connection, creates its handler and opens it. */
    void openAccepted(HandlerFactory factory) {
        assert loop.inEventLoop();
        if (state != State.CONNECTING) {
            return;
        }
        if (loop.isShuttingDown()) {
            discardUnopened();
            return;
        }
        try {
            key = layer.channel().register(loop.selector(), 0, this);
            if (proxyProtocol != ProxyProtocol.OFF) {
                pendingFactory = factory;
                startProxyHeader();
                return;
            }
            if (!layer.ready()) {
                pendingFactory = factory;
                startHandshake();
                return;
            }
        } catch (Throwable t) {
            log.warn("{}: cannot set up the accepted connection, closing it", this, t);
            closeNow(null, true);
            return;
        }
        if (createHandler(factory)) {
            established();
        }
    }

    /** Creates an accepted connection's handler; false, the connection closed, when the factory fails. */
    private boolean createHandler(HandlerFactory factory) {
        try {
            handler = Objects.requireNonNull(factory.create(this), "HandlerFactory returned null");
            return true;
        } catch (Throwable t) {
            log.warn("{}: cannot set up the accepted connection, closing it", this, t);
            closeNow(null, true);
            return false;
        }
    }

    /** Dials the remote address without blocking; the outcome reaches the handler. */
    void startConnect(Duration timeout) {
        assert loop.inEventLoop();
        if (state != State.CONNECTING) {
            return; // aborted before the loop got to it
        }
        try {
            if (loop.isShuttingDown()) {
                throw new IOException("transport shut down");
            }
            SocketChannel channel = SocketChannel.open();
            layer = newLayer(channel);
            configure(channel);
            key = channel.register(loop.selector(), 0, this);
            if (channel.connect(remote)) {
                connected();
            } else {
                setInterestOps(SelectionKey.OP_CONNECT);
                long millis = timeout.toMillis();
                timer = loop.schedule(() -> connectTimedOut(millis), millis, TimeUnit.MILLISECONDS);
            }
        } catch (Throwable t) {
            connectFailed(t);
        }
    }

    /** A connect that cannot start (its TLS files are unusable): tells the handler, on the loop. */
    void failBeforeConnect(Throwable cause) {
        assert loop.inEventLoop();
        closeNow(cause, false);
    }

    private void connected() throws IOException {
        local = (InetSocketAddress) layer.channel().getLocalAddress();
        setInterestOps(0);
        log.debug("{}: connected from {}", this, Addresses.format(local));
        if (!layer.ready()) {
            startHandshake(); // the connect timer keeps running: it bounds the handshake too
            return;
        }
        cancelTimer();
        established();
    }

    private void connectTimedOut(long millis) {
        if (state == State.CONNECTING) {
            timer = null;
            closeNow(new SocketTimeoutException(
                    "connect to " + Addresses.format(remote) + " timed out after " + millis + " ms"), true);
        } else if (state == State.PROXY_HEADER) {
            timer = null;
            refuse(headerReader.timedOut(millis));
        } else if (state == State.HANDSHAKING) {
            timer = null;
            countHandshake(TlsHandshakeOutcome.TIMEOUT);
            SocketTimeoutException cause = new SocketTimeoutException("TLS handshake with " + Addresses.format(remote)
                    + " timed out after " + millis + " ms");
            log.debug("{}: {}", this, cause.getMessage());
            closeNow(cause, true);
        }
    }

    // ---- PROXY protocol header (loop only) ---------------------------------------------------------------------

    private void startProxyHeader() {
        state = State.PROXY_HEADER;
        long millis = handshakeTimeout.toMillis();
        timer = loop.schedule(() -> connectTimedOut(millis), millis, TimeUnit.MILLISECONDS);
        setInterestOps(SelectionKey.OP_READ);
        readProxyHeader(); // the balancer often sends the header with the connection's first segment
    }

    /**
     * Reads what the socket has of the header; once it is complete, what followed it goes back to the layer and the
     * connection goes on as one without a header would: TLS handshake, or handler and open.
     */
    private void readProxyHeader() {
        if (headerReader == null) {
            headerReader = new ProxyHeaderReader(proxyProtocol, loop.config().readSizeCap());
        }
        ProxyHeaderReader.Outcome outcome = headerReader.read(layer.channel());
        if (outcome instanceof ProxyHeaderReader.NeedMore) {
            return;
        }
        if (outcome instanceof ProxyHeaderReader.Failed failed) {
            log.debug("{}: I/O error before the PROXY protocol header: {}", this, failed.cause().toString());
            closeNow(failed.cause(), true);
            return;
        }
        if (outcome instanceof ProxyHeaderReader.PeerClosed closed) {
            // A balancer's TCP health check connects and closes without a byte: not worth a line at info.
            log.debug("{}: closed by the peer before a PROXY protocol header ({} bytes received)", this,
                    closed.received());
            closeNow(null, false);
            return;
        }
        if (outcome instanceof ProxyHeaderReader.Refused refused) {
            refuse(refused.reason());
            return;
        }
        ProxyHeaderReader.Accepted accepted = (ProxyHeaderReader.Accepted) outcome;
        if (accepted.source() != null) {
            proxiedBy = remote;
            remote = accepted.source();
        }
        log.debug("{}: {}", this, accepted.description());
        headerReader = null;
        layer.unread(accepted.rest());
        HandlerFactory factory = pendingFactory;
        if (!layer.ready()) {
            startHandshake(); // the timer keeps running: it bounds header and handshake together
            return;
        }
        cancelTimer();
        pendingFactory = null;
        if (createHandler(factory)) {
            established();
        }
    }

    /** Closes a connection whose PROXY header is missing or bad: one line, no byte sent, no handler created. */
    private void refuse(String reason) {
        log.warn("listener {}: closing the connection from {} ({}): {}", Addresses.format(listenerAddress),
                Addresses.format(remote), proxyProtocol == ProxyProtocol.REQUIRED ? "proxy-protocol required"
                        : "proxy-protocol optional", reason);
        headerReader = null;
        closeNow(null, false);
    }

    // ---- TLS handshake (loop only) -------------------------------------------------------------------------------

    private void startHandshake() {
        state = State.HANDSHAKING;
        if (timer == null) {
            long millis = handshakeTimeout.toMillis();
            timer = loop.schedule(() -> connectTimedOut(millis), millis, TimeUnit.MILLISECONDS);
        }
        handshakeStep();
    }

    /** Advances the handshake; once done, creates the handler of an accepted connection and opens. */
    private void handshakeStep() {
        try {
            layer.handshake();
        } catch (Throwable t) {
            handshakeFailed(t);
            return;
        }
        if (!layer.ready()) {
            setInterestOps(SelectionKey.OP_READ | (layer.hasPendingWrites() ? SelectionKey.OP_WRITE : 0));
            return;
        }
        cancelTimer();
        SslTransportLayer ssl = (SslTransportLayer) layer;
        peerCertificates = ssl.peerCertificates();
        tlsProtocol = ssl.session().getProtocol();
        countHandshake(TlsHandshakeOutcome.OK);
        log.debug("{}: TLS handshake done ({}, {})", this, tlsProtocol, ssl.session().getCipherSuite());
        if (handler == null) {
            HandlerFactory factory = pendingFactory;
            pendingFactory = null;
            if (!createHandler(factory)) {
                return;
            }
        }
        established();
    }

    private void handshakeFailed(Throwable t) {
        TlsHandshakeOutcome outcome = PemTls.classifyHandshakeFailure(t);
        countHandshake(outcome);
        SSLHandshakeException cause = new SSLHandshakeException(
                "TLS handshake with " + Addresses.format(remote) + " failed: " + PemTls.describeHandshakeFailure(t));
        cause.initCause(t);
        if (tls.side() == TlsSide.SERVER && outcome != TlsHandshakeOutcome.CONNECTION_CLOSED) {
            log.info("{}: {}", this, cause.getMessage()); // no handler will log it
        } else {
            log.debug("{}: {}", this, cause.getMessage());
        }
        closeNow(cause, false);
    }

    private void countHandshake(TlsHandshakeOutcome outcome) {
        if (!handshakeCounted && tlsStats != null) {
            handshakeCounted = true;
            tlsStats.record(tls.side(), outcome);
        }
    }

    private void connectFailed(Throwable t) {
        IOException cause;
        String where = Addresses.format(remote);
        if (t instanceof ConnectException && String.valueOf(t.getMessage()).toLowerCase().contains("refused")) {
            cause = new ConnectException("connection refused: " + where);
        } else if (t instanceof ConnectException) {
            cause = new ConnectException("connect to " + where + " failed: " + t.getMessage());
        } else if (t instanceof UnresolvedAddressException) {
            cause = new UnknownHostException("cannot resolve " + remote.getHostString() + " (connect to " + where + ")");
        } else {
            cause = new IOException("connect to " + where + " failed: " + t, t);
        }
        if (cause.getCause() == null) {
            cause.initCause(t);
        }
        log.debug("{}: {}", this, cause.getMessage());
        closeNow(cause, false);
    }

    private void established() {
        state = State.OPEN;
        try {
            handler.onOpen(this);
        } catch (Throwable t) {
            onFailure(t);
            return;
        }
        if (state != State.OPEN) {
            return; // closed or aborted from onOpen
        }
        writes.drainIncoming();
        if (writes.hasPending()) {
            flushNow(); // what was written before the connection opened
        }
        updateInterestOps();
    }

    /** close(): flush, then close; bounded by the close flush timeout. */
    private void beginClose() {
        switch (state) {
            case CONNECTING, PROXY_HEADER, HANDSHAKING -> closeNow(null, false);
            case OPEN -> {
                state = State.CLOSING;
                writes.drainIncoming();
                if (!waitingForOpWrite()) {
                    flushNow();
                }
                if (state == State.CLOSING) {
                    if (writes.hasPending()) {
                        long millis = loop.config().closeFlushTimeout().toMillis();
                        timer = loop.schedule(() -> closeTimedOut(millis), millis, TimeUnit.MILLISECONDS);
                        updateInterestOps();
                    } else {
                        closeNow(null, false);
                    }
                }
            }
            default -> { } // already closing or closed
        }
    }

    private void closeTimedOut(long millis) {
        if (state == State.CLOSING) {
            timer = null;
            closeNow(new SocketTimeoutException("close of " + this + " timed out after " + millis + " ms with "
                    + writes.queuedBytes() + " bytes unsent (the peer does not read)"), true);
        }
    }

    /** The end of every connection: release the socket, drop the queue, tell the handler once. */
    private void closeNow(Throwable cause, boolean reset) {
        assert loop.inEventLoop();
        if (state == State.CLOSED) {
            return;
        }
        if (state == State.HANDSHAKING) {
            countHandshake(TlsHandshakeOutcome.CONNECTION_CLOSED); // aborted or shut down meanwhile
        }
        markClosed();
        loop.setBuffered(this, false);
        cancelTimer();
        if (key != null) {
            key.cancel();
        }
        if (layer != null) {
            layer.close(reset);
        }
        writes.clear();
        notifyClosed(cause);
    }

    private void markClosed() {
        state = State.CLOSED;
        if (countedOnLoop) {
            countedOnLoop = false;
            loop.acceptedReleased();
        }
    }

    /**
     * Counts this accepted connection in its loop's {@link NioEventLoop#acceptedOpen} until it closes. Called by the
     * acceptor loop when it assigns the connection, before handing it over, so that the next accept already sees it.
     */
    void countOnLoop() {
        countedOnLoop = true;
        loop.acceptedAssigned();
    }

    /** An accepted connection that never opened (its loop shut down first): closes the socket, uncounted. */
    void discardUnopened() {
        markClosed();
        layer.close(true);
    }

    /**
     * Tells the handler, once, in a task of its own: close(), abort() and write() may be called by the handler
     * itself, and must not call back into it before they return.
     */
    private void notifyClosed(Throwable cause) {
        if (closeNotified || handler == null) {
            return;
        }
        closeNotified = true;
        loop.execute(() -> invokeOnClose(cause));
    }

    private void invokeOnClose(Throwable cause) {
        try {
            handler.onClose(this, cause);
        } catch (Throwable t) {
            log.warn("{}: handler failed in onClose", this, t);
        }
    }

    // ---- selection (loop only) ------------------------------------------------------------------------------------

    @Override
    public void onSelected(int readyOps) throws IOException {
        if (state == State.CONNECTING) {
            if ((readyOps & SelectionKey.OP_CONNECT) != 0) {
                finishConnect();
            }
            return;
        }
        if (state == State.PROXY_HEADER) {
            readProxyHeader();
            return;
        }
        if (state == State.HANDSHAKING) {
            handshakeStep();
            return;
        }
        if ((readyOps & SelectionKey.OP_WRITE) != 0) {
            onSocketWritable();
        }
        if ((readyOps & SelectionKey.OP_READ) != 0) {
            readLoop();
        }
        updateInterestOps(); // a read may have left decrypted bytes, or a TLS reply to send
    }

    /** The loop serves a connection whose layer holds decrypted bytes the socket will not signal. */
    void onBufferedBytes() throws IOException {
        if (state == State.OPEN && !readPaused) {
            readLoop();
        }
        updateInterestOps();
    }

    private void finishConnect() {
        try {
            if (layer.finishConnect()) {
                connected();
            }
        } catch (Throwable t) {
            connectFailed(t);
        }
    }

    /**
     * Reads until the socket has no more, the read buffer was not filled, the handler paused or closed, or the
     * per-wakeup budget is spent (the selector will report the rest: fairness between connections). Each read is
     * capped by {@link LoopConfig#readSizeCap()}, the seam tests use to force short reads.
     */
    private void readLoop() throws IOException {
        ByteBuffer buffer = loop.readBuffer();
        int cap = loop.config().readSizeCap();
        for (int i = 0; i < loop.config().readsPerWakeup(); i++) {
            if (state != State.OPEN || readPaused) {
                return;
            }
            buffer.clear().limit(cap);
            int n = layer.read(buffer);
            if (n < 0) {
                peerClosed();
                return;
            }
            if (n == 0) {
                return;
            }
            buffer.flip();
            handler.onRead(this, buffer);
            if (n < cap) {
                return;
            }
        }
    }

    /** End of stream: the peer closed. Half-close is not needed for AMQP: try to hand over what is queued, close. */
    private void peerClosed() {
        log.debug("{}: closed by the peer", this);
        writes.drainIncoming();
        if (writes.hasPending()) {
            try {
                writes.flush(layer, loop.gatherScratch());
            } catch (IOException ignored) {
                // the peer is gone: nothing more to do
            }
        }
        closeNow(null, false);
    }

    @Override
    public void onFailure(Throwable failure) {
        if (tls != null && failure instanceof SSLException && state != State.HANDSHAKING) {
            // after the handshake, e.g. TLS 1.3: a server refuses our client certificate after its Finished
            SSLException explained = new SSLException("TLS connection with " + Addresses.format(remote) + " failed: "
                    + PemTls.describeHandshakeFailure(failure), failure);
            log.debug("{}: {}", this, explained.getMessage());
            closeNow(explained, true);
            return;
        }
        if (failure instanceof IOException) {
            log.debug("{}: I/O error, closing: {}", this, failure.toString());
        } else {
            log.warn("{}: failure, closing this connection", this, failure);
        }
        closeNow(failure, true);
    }

    @Override
    public void onLoopShutdown(Throwable cause) {
        closeNow(cause, true);
    }

    // ---- write path (loop only) ------------------------------------------------------------------------------------

    private void scheduleFlush() {
        if (flushScheduled.compareAndSet(false, true)) {
            try {
                loop.execute(flushTask);
            } catch (RejectedExecutionException e) {
                flushScheduled.set(false); // the loop is gone, and this connection with it
            }
        }
    }

    private void flushFromTask() {
        flushScheduled.set(false);
        if (state == State.CLOSED) {
            return;
        }
        writes.drainIncoming();
        if ((state == State.OPEN || state == State.CLOSING) && !waitingForOpWrite()) {
            flushNow();
        }
        notifyWritableIfDrained();
    }

    private void onSocketWritable() {
        writes.drainIncoming();
        flushNow();
        notifyWritableIfDrained();
    }

    /** Writes what the socket takes now; keeps OP_WRITE only while bytes remain; finishes a close once drained. */
    private void flushNow() {
        try {
            if (layer.flush()) {
                writes.flush(layer, loop.gatherScratch());
            }
        } catch (IOException e) {
            onFailure(e);
            return;
        }
        if (state == State.CLOSING && !writes.hasPending() && !layer.hasPendingWrites()) {
            closeNow(null, false);
        } else {
            updateInterestOps();
        }
    }

    private void notifyWritableIfDrained() {
        if (state == State.OPEN && writes.takeWritableEdge()) {
            try {
                handler.onWritable(this);
            } catch (Throwable t) {
                onFailure(t);
            }
        }
    }

    // ---- interest ops (loop only) ---------------------------------------------------------------------------------

    private boolean waitingForOpWrite() {
        return (interestOps & SelectionKey.OP_WRITE) != 0;
    }

    private void updateInterestOps() {
        if (state != State.OPEN && state != State.CLOSING) {
            return;
        }
        loop.setBuffered(this, state == State.OPEN && !readPaused && layer.hasBytesBuffered());
        int ops = 0;
        if (state == State.OPEN && !readPaused) {
            ops |= SelectionKey.OP_READ;
        }
        if (writes.hasPending() || layer.hasPendingWrites()) {
            ops |= SelectionKey.OP_WRITE;
        }
        setInterestOps(ops);
    }

    private void setInterestOps(int ops) {
        if (ops != interestOps) {
            key.interestOps(ops);
            interestOps = ops;
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }

    private void onLoop(Runnable action) {
        if (loop.inEventLoop()) {
            action.run();
        } else {
            try {
                loop.execute(action);
            } catch (RejectedExecutionException e) {
                // the loop has shut down: the connection is already closed
            }
        }
    }
}
