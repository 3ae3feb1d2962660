package io.warren.transport.nio;

import io.warren.api.transport.ConnectionHandler;
import io.warren.api.transport.EventLoop;
import io.warren.api.transport.Listener;
import io.warren.api.transport.NetworkRuntime;
import io.warren.api.transport.ProxyProtocol;
import io.warren.tls.PemTls;
import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsConfigException;
import io.warren.api.transport.TlsServerSettings;
import io.warren.api.transport.TlsStats;
import io.warren.api.transport.TransportSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A started NIO transport: {@code eventLoops} selector threads (one per processor by default), the listeners (each
 * accepting on loop 0 and giving each connection to the loop with the fewest accepted connections open, loop 0 on a
 * tie) and outgoing connects.
 */
final class NioRuntime implements NetworkRuntime {
    private static final Logger log = LoggerFactory.getLogger(NioRuntime.class);
    private static final long JOIN_MILLIS = 30_000;
    /** Linux caps every listen backlog at this sysctl. */
    static final Path SOMAXCONN = Path.of("/proc/sys/net/core/somaxconn");

    private final TransportSettings settings;
    private final List<NioEventLoop> loops;
    private final List<EventLoop> loopView;
    private final Set<NioListener> listeners = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final NioTlsStats tlsStats = new NioTlsStats();
    /** One context per distinct client settings: files read once, and TLS sessions resumed across connections. */
    private final ConcurrentHashMap<TlsClientSettings, SSLContext> clientContexts = new ConcurrentHashMap<>();

    private NioRuntime(TransportSettings settings, List<NioEventLoop> loops) {
        this.settings = settings;
        this.loops = List.copyOf(loops);
        this.loopView = List.copyOf(loops);
    }

    static NioRuntime start(TransportSettings settings, LoopConfig config) throws IOException {
        int count = settings.eventLoops() == 0 ? Runtime.getRuntime().availableProcessors() : settings.eventLoops();
        List<NioEventLoop> loops = new ArrayList<>(count);
        try {
            for (int i = 0; i < count; i++) {
                loops.add(new NioEventLoop(i, config));
            }
        } catch (IOException e) {
            loops.forEach(NioEventLoop::closeUnstarted);
            throw new IOException("cannot open " + count + " selectors: " + e.getMessage(), e);
        }
        loops.forEach(NioEventLoop::start);
        log.info("nio transport started with {} event loops", count);
        try {
            backlogWarning(settings.acceptBacklog(), readSysctl(SOMAXCONN)).ifPresent(log::warn);
        } catch (IOException | RuntimeException e) {
            log.debug("cannot read {} (not Linux?): {}", SOMAXCONN, e.toString());
        }
        return new NioRuntime(settings, loops);
    }

    /**
     * The value of a {@code /proc/sys} file, read in one call: the kernel answers a read at a non-zero offset of such
     * a file with end of file, and {@link Files#readString} reads a file that reports size 0 one byte first (it read
     * {@code 4096} as {@code 4}).
     */
    static String readSysctl(Path file) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(file)) {
            String line = reader.readLine();
            if (line == null) {
                throw new IOException(file + " is empty");
            }
            return line;
        }
    }

    /**
     * The warning to log when the kernel would cap the configured backlog, given the text of
     * {@code /proc/sys/net/core/somaxconn}.
     */
    static Optional<String> backlogWarning(int backlog, String somaxconnText) {
        int somaxconn = Integer.parseInt(somaxconnText.strip());
        if (backlog <= somaxconn) {
            return Optional.empty();
        }
        return Optional.of("accept-backlog " + backlog + " exceeds net.core.somaxconn " + somaxconn + ": the kernel"
                + " queues at most " + somaxconn + " connections per listener, so in a connect storm beyond that"
                + " clients wait for SYN retransmits. Raise it with: sysctl -w net.core.somaxconn=" + backlog
                + " (and persist it in /etc/sysctl.d/)");
    }

    @Override
    public Listener listen(InetSocketAddress address, HandlerFactory handlers) throws IOException {
        return listen(address, handlers, ProxyProtocol.OFF);
    }

    @Override
    public Listener listen(InetSocketAddress address, HandlerFactory handlers, ProxyProtocol proxyProtocol)
            throws IOException {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(handlers, "handlers");
        Objects.requireNonNull(proxyProtocol, "proxyProtocol");
        checkOpen();
        return register(NioListener.open(this, loops.get(0), address, settings.acceptBacklog(), handlers, null, null,
                proxyProtocol));
    }

    /**
     * {@inheritDoc}
     *
     * <p>The certificate, key and client CA files are read now, on the calling thread.
     */
    @Override
    public Listener listen(InetSocketAddress address, HandlerFactory handlers, TlsServerSettings tls)
            throws IOException {
        return listen(address, handlers, tls, ProxyProtocol.OFF);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The certificate, key and client CA files are read now, on the calling thread.
     */
    @Override
    public Listener listen(InetSocketAddress address, HandlerFactory handlers, TlsServerSettings tls,
            ProxyProtocol proxyProtocol) throws IOException {
        Objects.requireNonNull(proxyProtocol, "proxyProtocol");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(handlers, "handlers");
        Objects.requireNonNull(tls, "tls");
        checkOpen();
        SSLContext context = PemTls.serverContext(tls);
        TlsEndpoint endpoint = TlsEndpoint.server(context, tls);
        return register(NioListener.open(this, loops.get(0), address, settings.acceptBacklog(), handlers, endpoint,
                PemTls.certificateNotAfter(tls), proxyProtocol));
    }

    /** Whether the calling thread is one of this runtime's event loops. */
    boolean onEventLoop() {
        for (NioEventLoop loop : loops) {
            if (loop.inEventLoop()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Waits until every loop has run the tasks queued on it before this call (a loop runs its tasks in order), e.g.
     * the hand-over of connections a closing listener accepted. A loop that is shut down counts as done.
     */
    void awaitQueuedTasks(long timeoutMillis) throws InterruptedException, TimeoutException {
        CountDownLatch done = new CountDownLatch(loops.size());
        for (NioEventLoop loop : loops) {
            try {
                loop.execute(done::countDown);
            } catch (RejectedExecutionException e) {
                done.countDown();
            }
        }
        if (!done.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("the event loops did not run their queued tasks within " + timeoutMillis
                    + " ms");
        }
    }

    private Listener register(NioListener listener) {
        listeners.add(listener);
        if (closed.get()) {
            listener.close(); // close() ran meanwhile and may have missed it
        }
        return listener;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code loop} is not one of {@link #eventLoops()}
     * @throws RejectedExecutionException if this runtime is closed
     */
    @Override
    public void connect(InetSocketAddress address, EventLoop loop, ConnectionHandler handler) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(handler, "handler");
        NioEventLoop own = ownLoop(loop);
        checkOpen();
        NioConnection c = NioConnection.outgoing(own, address, handler, settings.writeHighWaterMark(),
                settings.writeLowWaterMark());
        own.execute(() -> c.startConnect(settings.connectTimeout()));
    }

    /**
     * {@inheritDoc}
     *
     * <p>The files of {@code tls} are read on the first connect with these settings (on the calling thread) and the
     * context is kept for later ones, so TLS sessions are resumed. Unusable files fail the connect: the handler's
     * {@code onClose} gets the {@link TlsConfigException}.
     *
     * @throws IllegalArgumentException if {@code loop} is not one of {@link #eventLoops()}
     * @throws RejectedExecutionException if this runtime is closed
     */
    @Override
    public void connect(InetSocketAddress address, EventLoop loop, ConnectionHandler handler, TlsClientSettings tls) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(tls, "tls");
        NioEventLoop own = ownLoop(loop);
        checkOpen();
        SSLContext context;
        try {
            context = clientContext(tls);
        } catch (TlsConfigException e) {
            NioConnection failed = NioConnection.outgoing(own, address, handler, settings.writeHighWaterMark(),
                    settings.writeLowWaterMark());
            own.execute(() -> failed.failBeforeConnect(e));
            return;
        }
        NioConnection c = NioConnection.outgoing(own, address, handler, settings.writeHighWaterMark(),
                settings.writeLowWaterMark(), TlsEndpoint.client(context, tls), tlsStats);
        own.execute(() -> c.startConnect(settings.connectTimeout()));
    }

    private SSLContext clientContext(TlsClientSettings tls) throws TlsConfigException {
        SSLContext context = clientContexts.get(tls);
        if (context == null) {
            context = PemTls.clientContext(tls);
            SSLContext raced = clientContexts.putIfAbsent(tls, context);
            if (raced != null) {
                context = raced;
            }
        }
        return context;
    }

    @Override
    public TlsStats tlsStats() {
        return tlsStats;
    }

    @Override
    public List<EventLoop> eventLoops() {
        return loopView;
    }

    /**
     * Configures an accepted socket and gives it to the loop with the fewest accepted connections open
     * ({@link #loopFor}). Called on the acceptor loop.
     */
    void dispatchAccepted(NioEventLoop acceptor, SocketChannel channel, HandlerFactory handlers, TlsEndpoint tls,
            ProxyProtocol proxyProtocol, InetSocketAddress listenerAddress) {
        NioEventLoop loop = loopFor(acceptor);
        NioConnection connection;
        try {
            NioConnection.configure(channel);
            connection = NioConnection.accepted(loop, channel, settings.writeHighWaterMark(),
                    settings.writeLowWaterMark(), tls, tlsStats, settings.connectTimeout(), proxyProtocol,
                    listenerAddress);
        } catch (IOException e) {
            log.debug("dropping an accepted connection that failed at once: {}", e.toString());
            closeQuietly(channel);
            return;
        }
        connection.countOnLoop();
        try {
            loop.execute(() -> connection.openAccepted(handlers));
        } catch (RejectedExecutionException e) {
            connection.discardUnopened(); // shutting down: no handler exists yet, so nobody to tell
        }
    }

    /**
     * The loop with the fewest accepted connections open, and the acceptor itself when none has fewer than it. A
     * client that comes while every loop is idle (short-lived clients one after another, the common case) so stays
     * on the loop that accepted it: handing a socket to another loop costs an eventfd write and read and a wake-up
     * of that loop's thread (docs/benchmarks.md, section 18: 1.8 system calls per client). Concurrent clients still
     * spread: a loop that holds more connections, or holds them longer because it is busier, gets fewer new ones.
     */
    private NioEventLoop loopFor(NioEventLoop acceptor) {
        NioEventLoop chosen = acceptor;
        int fewest = acceptor.acceptedOpen();
        for (NioEventLoop l : loops) {
            int open = l.acceptedOpen();
            if (open < fewest) {
                chosen = l;
                fewest = open;
            }
        }
        return chosen;
    }

    /**
     * Closes the listeners, then each loop closes its connections (handlers get {@code onClose} with an
     * {@code IOException("transport shut down")}) and stops; waits for the loop threads unless called on one of them.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        listeners.forEach(NioListener::close);
        listeners.clear();
        loops.forEach(NioEventLoop::shutdown);
        boolean interrupted = false;
        for (NioEventLoop loop : loops) {
            if (loop.inEventLoop()) {
                continue; // it stops once the current task returns
            }
            try {
                if (!loop.awaitTermination(JOIN_MILLIS)) {
                    log.warn("{} did not stop within {} ms (a handler is blocking it?)", loop, JOIN_MILLIS);
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        log.info("nio transport stopped");
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new RejectedExecutionException("the nio transport is closed");
        }
    }

    private NioEventLoop ownLoop(EventLoop loop) {
        Objects.requireNonNull(loop, "loop");
        for (NioEventLoop own : loops) {
            if (own == loop) {
                return own;
            }
        }
        throw new IllegalArgumentException(loop + " is not an event loop of this runtime");
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
