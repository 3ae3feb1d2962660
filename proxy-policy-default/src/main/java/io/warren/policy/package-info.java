/**
 * Warren's default {@link io.warren.api.CredentialKeyer} ({@code credentials}) and
 * {@link io.warren.api.ChannelReusePolicy} implementations ({@code publish-safe}, the default, and {@code never}).
 *
 * <p>The public classes here exist only because {@link java.util.ServiceLoader} needs a public class with a public
 * no-argument constructor; code outside this module should reach them through {@link io.warren.api.Providers} by
 * name, never by class.
 */
package io.warren.policy;
