/**
 * The default {@link io.warren.api.transport.Transport} ({@code nio}): selector event loops, one thread per loop,
 * no thread per connection.
 *
 * <h2>Threading</h2>
 * Each {@link io.warren.transport.nio.NioEventLoop} thread owns a {@link java.nio.channels.Selector} and every
 * connection registered with it. Everything that touches a connection's socket, selection key, write deque or
 * handler runs on that thread; other threads only enqueue (tasks, writes into an MPSC queue) and wake the selector.
 * Loop-confined fields are marked "loop only" and checked with {@code assert loop.inEventLoop()}.
 *
 * <h2>Structure</h2>
 * <ul>
 *   <li>{@code NioTransport}: the service provider; starts a {@code NioRuntime}.</li>
 *   <li>{@code NioRuntime}: the loops, the listeners, outgoing connects, shutdown.</li>
 *   <li>{@code NioEventLoop}: select, dispatch selected keys, timers ({@code TimerQueue}), tasks.</li>
 *   <li>{@code NioListener}: a non-blocking acceptor; gives each accepted socket to the loop with the fewest
 *       accepted connections open, keeping it on the acceptor loop on a tie.</li>
 *   <li>{@code NioConnection}: connection life cycle (connect, PROXY header, open, close, abort) and the read
 *       path.</li>
 *   <li>{@code ProxyHeaderParser}: PROXY protocol v1/v2 headers (pure, peeks without consuming), read by an accepted
 *       connection of a listener in optional or required mode before any TLS or AMQP byte.</li>
 *   <li>{@code WriteQueue}: the write path (queues, queued-byte accounting, water marks, gathering writes).</li>
 *   <li>{@code TransportLayer}: socket I/O of one connection; {@code PlaintextTransportLayer} (one-line delegates)
 *       and {@code SslTransportLayer} (an {@code SSLEngine} handshake state machine, wrap/unwrap) beside it.</li>
 *   <li>{@code TlsEndpoint}: one side's TLS configuration (context from {@code PemTls}, SNI, host name
 *       verification, client authentication), creating an engine per connection; {@code NioTlsStats}: handshake
 *       counts; {@code TlsBufferPool}: each loop's pool of TLS buffers.</li>
 * </ul>
 *
 * <h2>Memory</h2>
 * One read buffer per loop, reused for every connection of that loop: an idle connection holds no buffer, only its
 * (empty) queues and bookkeeping. A TLS connection also holds its {@code SSLEngine} (about 4 to 6 KB after the
 * handshake, session included) and, only while they hold bytes, up to three buffers of about 16.7 KB (a partial
 * incoming record, decrypted bytes not yet delivered, encrypted bytes not yet on the socket); empty buffers go back
 * to the loop's {@code TlsBufferPool} (at most 16 kept per loop).
 *
 * <h2>TLS and the loop</h2>
 * Handshakes run on the loop (delegated tasks inline, no extra threads). Decrypted bytes a layer holds after a read
 * are not signalled by the socket: such connections are kept in the loop's set of connections with buffered bytes,
 * the loop then selects without waiting and serves them after the selected keys.
 */
package io.warren.transport.nio;
