/**
 * Benchmarks (never run by the test phase): the JMH codec benchmark in {@code io.warren.bench.codec}, and
 * end-to-end bench mains ({@link io.warren.bench.ThroughputBench}, {@link io.warren.bench.ConnectionPerPublishBench},
 * {@link io.warren.bench.HeldClientsBench}) with the reusable {@link io.warren.bench.LatencyRelay}. Commands and recorded numbers: docs/benchmarks.md.
 */
package io.warren.bench;
