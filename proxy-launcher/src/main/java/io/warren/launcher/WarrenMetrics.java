package io.warren.launcher;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot.InfoDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.warren.api.transport.TlsHandshakeOutcome;
import io.warren.api.transport.TlsSide;
import io.warren.api.transport.TlsStats;
import io.warren.core.WarrenProxy;
import io.warren.core.config.ProxyConfig;
import io.warren.core.stats.NodeStatus;
import io.warren.core.stats.ProxyStats;
import io.warren.core.stats.ProxyStats.Direction;
import io.warren.core.stats.ProxyStats.Peer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Warren's own metrics, read from {@link ProxyStats} at each scrape (nothing is counted twice, and the engine keeps
 * no Prometheus types). Counter names are given without {@code _total}; the text format adds it.
 */
final class WarrenMetrics implements MultiCollector {
    private final WarrenProxy proxy;
    private final ProxyStats stats;
    private final TlsStats tls;
    private final Optional<Instant> certificateNotAfter;
    private final Labels info;
    /** The two budgets' sizes in force (auto resolved), so that dashboards and alerts can show how full they are. */
    private final long messageBufferLimit;
    private final long slowClientBufferLimit;

    WarrenMetrics(WarrenProxy proxy, Daemon.Plugins plugins, ProxyConfig config) {
        this.proxy = proxy;
        this.stats = proxy.stats();
        this.tls = proxy.tlsStats();
        this.certificateNotAfter = proxy.tlsCertificateNotAfter();
        this.info = Labels.of("version", Cli.version().split(" ")[1], "transport", plugins.transport().name(),
                "credential_keyer", plugins.keyer().name(), "reuse_policy", plugins.policy().name());
        this.messageBufferLimit = config.messageBuffer();
        this.slowClientBufferLimit = config.slowClientBufferTotal();
    }

    @Override
    public MetricSnapshots collect() {
        List<MetricSnapshot> out = new ArrayList<>();
        out.add(InfoSnapshot.builder().name("warren").help("Warren's version and the implementations in use")
                .dataPoint(InfoDataPointSnapshot.builder().labels(info).build()).build());

        out.add(gauge("warren_client_connections", "Client connections open now", stats.clientConnections()));
        out.add(counter("warren_client_connections_accepted", "Client connections accepted since start",
                stats.clientConnectionsTotal()));
        out.add(gauge("warren_client_channels", "Client channels open now", stats.clientChannels()));
        out.add(gauge("warren_upstream_connections", "Upstream connections open now", stats.upstreamConnections()));
        out.add(counter("warren_upstream_connect_failures", "Upstream connection attempts that failed",
                stats.upstreamConnectFailures()));
        out.add(labelled(counterBuilder("warren_upstream_disconnects", "Upstream connections that ended, by how"),
                "outcome", Map.of("orderly", stats.upstreamDisconnectsOrderly(),
                        "failed", stats.upstreamDisconnectsFailed())));
        out.addAll(nodes());
        out.add(gauge("warren_held_clients", "Clients in the handshake waiting for an upstream node to come up"
                + " (upstream-hold)", stats.heldClients()));
        out.add(gauge("warren_upstream_channels", "Upstream channels allocated now", stats.upstreamChannels()));
        out.add(counter("warren_upstream_channels_opened", "Upstream channels opened (channel.open sent to the"
                + " broker) since start", stats.upstreamChannelsOpenedTotal()));
        out.add(gauge("warren_pooled_idle_channels", "Scrubbed upstream channels waiting in the pools to be lent",
                stats.pooledIdleChannels()));
        out.add(gauge("warren_client_write_queue_peak_bytes", "Largest write queue of any one client connection"
                + " since start (a client that does not read)", stats.peakClientWriteQueueBytes()));
        out.add(gauge("warren_slow_client_buffered_bytes", "Bytes buffered now for clients that stopped reading,"
                + " all together (bounded by slow-client-buffer-total)", stats.slowClientBufferedBytes()));
        out.add(gauge("warren_slow_client_buffered_peak_bytes", "Most bytes buffered at once for clients that"
                + " stopped reading, all together, since start", stats.peakSlowClientBufferedBytes()));
        out.add(gauge("warren_upstream_write_queue_peak_bytes", "Largest write queue of any one upstream connection"
                + " since start", stats.peakUpstreamWriteQueueBytes()));
        out.add(gauge("warren_message_buffer_bytes", "Bytes reserved now by messages held until their last frame"
                + " (message-buffer), each its exact size", stats.messageBufferBytes()));
        out.add(gauge("warren_message_buffer_limit_bytes", "The message-buffer budget in force: most bytes held"
                + " messages may reserve together", messageBufferLimit));
        out.add(gauge("warren_slow_client_buffer_limit_bytes", "The slow-client-buffer-total budget in force: most"
                + " bytes buffered for clients that stopped reading, all together", slowClientBufferLimit));
        out.add(gauge("warren_message_buffer_waiting_clients", "Clients not read until the message-buffer has room"
                + " for their message", stats.messageBufferWaitingClients()));
        out.add(counter("warren_channels_lent", "Client channels served by lending a pooled upstream channel"
                + " instead of opening one", stats.channelsLent()));
        out.add(labelled(counterBuilder("warren_reuse_decisions", "Verdicts of the reuse policy on channels their"
                + " clients were done with"), "decision",
                Map.of("reuse", stats.reuseAllowed(), "close", stats.reuseRefused())));
        Map<String, Long> scrubs = new java.util.TreeMap<>(stats.scrubsFailed());
        scrubs.put("success", stats.scrubsSucceeded());
        out.add(labelled(counterBuilder("warren_channel_scrubs", "Scrubs of returned channels, by outcome"),
                "outcome", scrubs));
        out.add(labelled(counterBuilder("warren_channel_scrub_waits", "Clients that found no channel idle while"
                + " their key had all it needed being scrubbed, and waited (at most scrub-wait), by outcome (served:"
                + " a scrubbed channel came; timed_out: they opened one)"), "outcome",
                new java.util.TreeMap<>(stats.scrubWaits())));
        out.add(counter("warren_messages_published", "Whole messages clients published through Warren",
                stats.messagesPublished()));

        Map<String, Long> handshakes = new java.util.TreeMap<>(stats.handshakesFailed());
        handshakes.put("success", stats.handshakesSucceeded());
        out.add(labelled(counterBuilder("warren_handshakes", "Client handshakes, by outcome"), "outcome",
                handshakes));
        out.add(handshakeHistogram());
        out.add(labelled(counterBuilder("warren_upstream_logins", "Upstream logins that proved client credentials,"
                + " by kind (client: a client waited for it; refresh: re-proven in the background)"), "kind",
                stats.upstreamLogins()));

        out.add(traffic("warren_bytes", "Bytes exchanged with clients and upstream connections", true));
        out.add(traffic("warren_frames", "AMQP frames exchanged with clients and upstream connections", false));

        CounterSnapshot.Builder handshakesTls = counterBuilder("warren_tls_handshakes", "TLS handshakes, by the"
                + " side Warren was (client: towards the broker, server: on the TLS listener) and how they ended");
        for (TlsSide side : TlsSide.values()) {
            for (TlsHandshakeOutcome outcome : TlsHandshakeOutcome.values()) {
                handshakesTls.dataPoint(CounterDataPointSnapshot.builder()
                        .labels(Labels.of("side", side.label(), "outcome", outcome.label()))
                        .value(tls.handshakes(side, outcome)).build());
            }
        }
        out.add(handshakesTls.build());
        certificateNotAfter.ifPresent(t -> out.add(gauge("warren_tls_certificate_expiry_timestamp_seconds",
                "When the TLS listener's certificate expires, in seconds since the epoch", t.getEpochSecond())));

        CounterSnapshot.Builder violations = counterBuilder("warren_client_violations",
                "Clients closed for a protocol violation, by the reply code they were given");
        stats.violations().forEach((code, n) -> violations.dataPoint(CounterDataPointSnapshot.builder()
                .labels(Labels.of("reply_code", Integer.toString(code))).value(n).build()));
        out.add(violations.build());
        return new MetricSnapshots(out);
    }

    /** Per upstream node (label {@code node}): up or not, its connections, failed attempts, times it went down. */
    private List<MetricSnapshot> nodes() {
        GaugeSnapshot.Builder up = GaugeSnapshot.builder().name("warren_upstream_node_up")
                .help("Whether the upstream node takes new connections (1) or is down or draining (0)");
        GaugeSnapshot.Builder connections = GaugeSnapshot.builder().name("warren_upstream_node_connections")
                .help("Upstream connections to the node now (connecting or open)");
        CounterSnapshot.Builder failures = counterBuilder("warren_upstream_node_connect_failures",
                "Connection attempts to the node that failed (clients' and background probes'), since start");
        CounterSnapshot.Builder failovers = counterBuilder("warren_upstream_node_failovers",
                "Times the node went down since start (its clients were closed, new ones went to other nodes)");
        for (NodeStatus n : proxy.nodes()) {
            Labels node = Labels.of("node", n.name());
            up.dataPoint(GaugeDataPointSnapshot.builder().labels(node).value(n.up() ? 1 : 0).build());
            connections.dataPoint(GaugeDataPointSnapshot.builder().labels(node).value(n.connections()).build());
            failures.dataPoint(CounterDataPointSnapshot.builder().labels(node).value(n.connectFailures()).build());
            failovers.dataPoint(CounterDataPointSnapshot.builder().labels(node).value(n.failovers()).build());
        }
        return List.of(up.build(), connections.build(), failures.build(), failovers.build());
    }

    private MetricSnapshot handshakeHistogram() {
        double[] bounds = ProxyStats.handshakeLatencyBucketBounds();
        long[] counts = stats.handshakeLatencyBucketCounts();
        double[] withInf = Arrays.copyOf(bounds, bounds.length + 1);
        withInf[bounds.length] = Double.POSITIVE_INFINITY;
        return HistogramSnapshot.builder().name("warren_handshake_duration_seconds")
                .help("Time from a client's TCP connect to its connection.open-ok, successful handshakes only")
                .dataPoint(HistogramDataPointSnapshot.builder()
                        .classicHistogramBuckets(ClassicHistogramBuckets.of(withInf, counts))
                        .sum(stats.handshakeNanosTotal() / 1e9).build())
                .build();
    }

    private MetricSnapshot traffic(String name, String help, boolean bytes) {
        CounterSnapshot.Builder b = counterBuilder(name, help + ", by peer and direction (received by or sent by"
                + " Warren)");
        for (Peer peer : Peer.values()) {
            for (Direction direction : Direction.values()) {
                long v = bytes ? stats.bytes(peer, direction) : stats.frames(peer, direction);
                b.dataPoint(CounterDataPointSnapshot.builder()
                        .labels(Labels.of("peer", lower(peer), "direction", lower(direction))).value(v).build());
            }
        }
        return b.build();
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static MetricSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeDataPointSnapshot.builder().value(value).build()).build();
    }

    private static MetricSnapshot counter(String name, String help, double value) {
        return counterBuilder(name, help).dataPoint(CounterDataPointSnapshot.builder().value(value).build()).build();
    }

    private static CounterSnapshot.Builder counterBuilder(String name, String help) {
        return CounterSnapshot.builder().name(name).help(help);
    }

    private static MetricSnapshot labelled(CounterSnapshot.Builder b, String label, Map<String, Long> values) {
        new java.util.TreeMap<>(values).forEach((k, v) -> b.dataPoint(CounterDataPointSnapshot.builder()
                .labels(Labels.of(label, k)).value(v).build()));
        return b.build();
    }
}
