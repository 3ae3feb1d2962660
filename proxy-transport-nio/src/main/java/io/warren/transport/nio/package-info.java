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
 *   <li>{@code NioListener}: a non-blocking acceptor; hands accepted sockets round robin to the loops.</li>
 *   <li>{@code NioConnection}: connection life cycle (connect, open, close, abort) and the read path.</li>
 *   <li>{@code WriteQueue}: the write path (queues, queued-byte accounting, water marks, gathering writes).</li>
 *   <li>{@code TransportLayer}: socket I/O of one connection; {@code PlaintextTransportLayer} now, TLS later
 *       beside it, without changes to the loop.</li>
 * </ul>
 *
 * <h2>Memory</h2>
 * One read buffer per loop, reused for every connection of that loop: an idle connection holds no buffer, only its
 * (empty) queues and bookkeeping.
 */
package io.warren.transport.nio;
