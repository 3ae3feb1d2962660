/**
 * The transport SPI: how Warren accepts client connections, dials upstream connections and moves bytes with
 * back-pressure. The engine never touches a socket; it sees {@link io.warren.api.transport.Connection}s.
 */
package io.warren.api.transport;
