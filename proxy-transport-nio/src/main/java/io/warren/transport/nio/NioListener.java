package io.warren.transport.nio;

import io.warren.api.transport.Listener;
import io.warren.api.transport.NetworkRuntime.HandlerFactory;
import io.warren.api.transport.ProxyProtocol;
import io.warren.api.transport.TlsConfigException;
import io.warren.api.transport.TlsServerSettings;
import io.warren.tls.PemTls;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listening socket, accepted without blocking on one event loop (the acceptor loop); each accepted socket goes to
 * the loop with the fewest accepted connections open, the acceptor loop itself on a tie, where its handler is
 * created. When accept() fails (out of file descriptors, typically) the listener stops accepting for
 * {@link LoopConfig#acceptRetryDelay()} rather than spin on a socket that stays ready.
 *
 * <p>Where the platform has it (Linux), the socket is bound with {@code SO_REUSEPORT}, so that a second Warren (the
 * same user) can listen on the same address while this one still runs: the kernel spreads new connections over
 * both. Linux resets the connections still queued in a listener's backlog when it closes, so {@link #close} first
 * accepts every queued connection and hands each to its handler like any other client (they are served, and drained
 * with the rest), then closes the socket.
 */
final class NioListener implements Listener, Selectable {
    private static final Logger log = LoggerFactory.getLogger(NioListener.class);
    private static final long ACCEPT_FAILURE_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** How long {@link #close} waits for the backlog to be accepted and handed to the loops. */
    private static final long CLOSE_WAIT_MILLIS = 5_000;

    private final NioRuntime runtime;
    private final NioEventLoop acceptLoop;
    private final ServerSocketChannel server;
    private final InetSocketAddress address;
    private final HandlerFactory handlers;
    private final ProxyProtocol proxyProtocol;
    /** Null for a plain listener; replaced whole by {@link #reloadTls}, read at each accept. */
    private volatile TlsEndpoint tls;
    private volatile Instant certificateNotAfter; // null: plain
    private final AtomicBoolean closed = new AtomicBoolean();
    private SelectionKey key; // loop only
    /** accept() failures not yet logged, and when the last report went out (loop only). */
    private long acceptFailuresUnreported;
    private long lastAcceptFailureReportNanos;
    private boolean acceptFailureReported;

    private NioListener(NioRuntime runtime, NioEventLoop acceptLoop, ServerSocketChannel server,
            InetSocketAddress address, HandlerFactory handlers, TlsEndpoint tls, Instant certificateNotAfter,
            ProxyProtocol proxyProtocol) {
        this.proxyProtocol = proxyProtocol;
        this.tls = tls;
        this.certificateNotAfter = certificateNotAfter;
        this.runtime = runtime;
        this.acceptLoop = acceptLoop;
        this.server = server;
        this.address = address;
        this.handlers = handlers;
    }

    /** Binds now (so that the caller gets the error) and starts accepting on {@code acceptLoop}. */
    static NioListener open(NioRuntime runtime, NioEventLoop acceptLoop, InetSocketAddress address, int backlog,
            HandlerFactory handlers, TlsEndpoint tls, Instant certificateNotAfter, ProxyProtocol proxyProtocol)
            throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.configureBlocking(false);
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (server.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT)) {
                server.setOption(StandardSocketOptions.SO_REUSEPORT, true); // a successor may bind beside us
            }
            server.bind(address, backlog);
        } catch (IOException | RuntimeException e) {
            server.close();
            String message = "cannot listen on " + Addresses.format(address) + ": " + e.getMessage();
            IOException wrapped = e instanceof BindException ? new BindException(message) : new IOException(message);
            wrapped.initCause(e);
            throw wrapped;
        }
        NioListener listener = new NioListener(runtime, acceptLoop, server,
                (InetSocketAddress) server.getLocalAddress(), handlers, tls, certificateNotAfter, proxyProtocol);
        try {
            acceptLoop.execute(listener::register);
        } catch (RejectedExecutionException e) {
            server.close();
            throw new IOException("cannot listen on " + Addresses.format(address) + ": transport shut down", e);
        }
        log.info("listening on {}{}{}", Addresses.format(listener.address), tls == null ? "" : " (TLS)",
                proxyProtocol == ProxyProtocol.OFF ? "" : " (PROXY protocol " + proxyProtocol.name().toLowerCase(
                        Locale.ROOT) + ")");
        return listener;
    }

    private void register() {
        if (closed.get()) {
            return;
        }
        try {
            key = server.register(acceptLoop.selector(), SelectionKey.OP_ACCEPT, this);
        } catch (IOException e) {
            log.error("cannot accept on {}; closing the listener", Addresses.format(address), e);
            close();
        }
    }

    @Override
    public InetSocketAddress address() {
        return address;
    }

    @Override
    public boolean isTls() {
        return tls != null;
    }

    @Override
    public Optional<Instant> certificateNotAfter() {
        return Optional.ofNullable(certificateNotAfter);
    }

    @Override
    public void reloadTls(TlsServerSettings settings) throws TlsConfigException {
        if (tls == null) {
            throw new UnsupportedOperationException("the listener on " + Addresses.format(address)
                    + " is not a TLS listener");
        }
        TlsEndpoint next = TlsEndpoint.server(PemTls.serverContext(settings), settings); // throws: nothing changes
        certificateNotAfter = PemTls.certificateNotAfter(settings);
        tls = next;
        log.info("TLS listener on {}: new handshakes use {} (expires {})", Addresses.format(address),
                settings.certificateFile(), certificateNotAfter);
    }

    /**
     * Stops accepting: accepts what the kernel has queued already and hands it to the loops (closing the socket would
     * reset those connections), then closes the socket. Called off the loops, returns once those connections are with
     * their loops (so that a drain that follows counts them), or after {@link #CLOSE_WAIT_MILLIS}.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        CompletableFuture<Void> closedOnLoop = new CompletableFuture<>();
        try {
            acceptLoop.execute(() -> stopSelecting(closedOnLoop));
        } catch (RejectedExecutionException e) {
            closeOnLoop(false); // the loop is gone: nobody else touches the channel, nor could serve a client
            return;
        }
        if (runtime.onEventLoop()) {
            return; // waiting here could wait for this very thread
        }
        try {
            closedOnLoop.get(CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            runtime.awaitQueuedTasks(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("closing the listener on {}: the queued connections were not handed over within {} ms",
                    Addresses.format(address), CLOSE_WAIT_MILLIS);
        }
    }

    /**
     * The first step of {@link #close}, on the loop. NIO closes a channel still registered with a selector only at the
     * loop's next select, which deregisters its cancelled key, and until then the socket goes on queueing
     * connections, which Linux resets when it closes. So the key is cancelled here, and the backlog is accepted and the
     * socket closed after that select ({@link #closeOnLoop}, as a timer: the loop runs timers after its select), when
     * closing it takes effect at once. A connection can still land in the microseconds between the last accept and
     * the close; only the kernel's {@code net.ipv4.tcp_migrate_req} closes that gap (README).
     */
    private void stopSelecting(CompletableFuture<Void> closedOnLoop) {
        Runnable closeNow = () -> {
            try {
                closeOnLoop(true);
            } finally {
                closedOnLoop.complete(null);
            }
        };
        if (key == null) {
            closeNow.run(); // never registered: the close takes effect at once
            return;
        }
        key.cancel();
        acceptLoop.schedule(closeNow, 0, TimeUnit.MILLISECONDS);
    }

    private void closeOnLoop(boolean acceptQueued) {
        int accepted = acceptQueued && server.isOpen() ? acceptQueued() : 0;
        if (key != null) {
            key.cancel();
        }
        try {
            server.close();
        } catch (IOException e) {
            log.warn("closing the listener on {} failed", Addresses.format(address), e);
        }
        if (accepted > 0) {
            log.info("stopped listening on {} (accepted the {} connection(s) queued in its backlog first)",
                    Addresses.format(address), accepted);
        } else {
            log.info("stopped listening on {}", Addresses.format(address));
        }
    }

    /** Accepts until the backlog is empty, each connection handed on as usual; returns how many. */
    private int acceptQueued() {
        int accepted = 0;
        while (true) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException e) {
                log.warn("closing the listener on {}: accepting its queued connections failed after {}: {}",
                        Addresses.format(address), accepted, e.toString());
                return accepted;
            }
            if (channel == null) {
                return accepted;
            }
            runtime.dispatchAccepted(acceptLoop, channel, handlers, tls, proxyProtocol, address);
            accepted++;
        }
    }

    @Override
    public void onSelected(int readyOps) {
        for (int i = 0; i < acceptLoop.config().acceptsPerWakeup() && !closed.get(); i++) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException e) {
                pauseAccepting(e);
                return;
            }
            if (channel == null) {
                return;
            }
            runtime.dispatchAccepted(acceptLoop, channel, handlers, tls, proxyProtocol, address);
        }
    }

    private void pauseAccepting(IOException e) {
        long millis = acceptLoop.config().acceptRetryDelay().toMillis();
        // Out of file descriptors, accept() fails on every attempt: one line per interval, with the count.
        acceptFailuresUnreported++;
        long now = System.nanoTime();
        if (!acceptFailureReported || now - lastAcceptFailureReportNanos >= ACCEPT_FAILURE_LOG_INTERVAL_NANOS) {
            log.warn("accept on {} failed {} time(s) since the last report: {}; pausing accepts for {} ms each time",
                    Addresses.format(address), acceptFailuresUnreported, e.toString(), millis);
            acceptFailureReported = true;
            lastAcceptFailureReportNanos = now;
            acceptFailuresUnreported = 0;
        } else {
            log.debug("accept on {} failed", Addresses.format(address), e);
        }
        key.interestOps(0);
        acceptLoop.schedule(() -> {
            if (!closed.get() && key.isValid()) {
                key.interestOps(SelectionKey.OP_ACCEPT);
            }
        }, millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onFailure(Throwable failure) {
        log.error("listener on {} failed; closing it", Addresses.format(address), failure);
        closed.set(true);
        closeOnLoop(false);
    }

    @Override
    public void onLoopShutdown(Throwable cause) {
        closed.set(true);
        closeOnLoop(false);
    }

    @Override
    public String toString() {
        return "listener " + Addresses.format(address);
    }
}
