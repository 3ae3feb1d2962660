/**
 * Benchmarks (never run by the test phase): the JMH codec benchmark in {@code io.warren.bench.codec}, and
 * end-to-end bench mains ({@link io.warren.bench.ThroughputBench}, {@link io.warren.bench.ConnectionPerPublishBench},
 * {@link io.warren.bench.HeldClientsBench}, {@link io.warren.bench.CpuPerWorkBench}) with the reusable
 * {@link io.warren.bench.LatencyRelay} and {@link io.warren.bench.CannedResponder} (the floor under a proxy's cost per
 * client). Commands and recorded numbers: docs/benchmarks.md.
 */
package io.warren.bench;
