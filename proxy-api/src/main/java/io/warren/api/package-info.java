/**
 * Warren's service provider interfaces and the small value types they exchange.
 *
 * <p>Three extension points, each selected by {@link io.warren.api.Named#name() name} in the configuration and
 * found through {@link java.util.ServiceLoader}:
 * <ul>
 *   <li>{@link io.warren.api.transport.Transport}: accepts client connections and dials upstream ones;</li>
 *   <li>{@link io.warren.api.CredentialKeyer}: turns what a client presented into a pool key and upstream
 *       credentials;</li>
 *   <li>{@link io.warren.api.ChannelReusePolicy}: decides whether an upstream channel may be lent again.</li>
 * </ul>
 * A third-party implementation depends on this module only, lists its class in
 * {@code META-INF/services/<interface name>} and is dropped into the distribution's {@code plugins/} directory.
 * {@link io.warren.api.Providers} resolves a configured name to exactly one implementation.
 */
package io.warren.api;
