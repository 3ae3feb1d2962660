/**
 * What the operator's admin API sees of a running proxy: snapshots of its clients, upstream connections, pools and
 * the outcome of a reload, as immutable values. Built by the engine on the threads that own what they describe;
 * {@link io.warren.core.WarrenProxy} hands them out.
 */
package io.warren.core.admin;
