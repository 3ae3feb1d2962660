/**
 * AMQP 0-9-1 wire format for Warren: frames, methods, content headers and field tables.
 *
 * <p>This module is pure JDK, does no I/O and starts no threads. Its main entry points are
 * {@link io.warren.codec.FrameDecoder} (bytes to frames, zero-copy when a frame lies wholly in the
 * input), {@link io.warren.codec.FramePeek} (allocation-free absolute reads of a frame's header,
 * used on the forwarding hot path), {@link io.warren.codec.MethodCodec} (method payloads to
 * {@link io.warren.codec.AmqpMethod} records and back), {@link io.warren.codec.ContentHeader} and
 * {@link io.warren.codec.FrameEncoder}.
 *
 * <p>Malformed input is reported as a checked {@link io.warren.codec.ProtocolException} carrying the
 * reply code RabbitMQ uses for the same fault, so that the proxy can close a misbehaving client the
 * way the broker would. Programming errors (invalid values given to constructors, a too-small output
 * buffer) are unchecked exceptions. All classes are immutable or confined to one thread.
 */
package io.warren.codec;
