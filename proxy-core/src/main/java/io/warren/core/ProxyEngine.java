package io.warren.core;

import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.transport.NetworkRuntime;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.FieldValue;
import io.warren.codec.LongString;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** What every session and upstream connection shares: configuration, SPIs, pools and counters. */
final class ProxyEngine {
    static final String VERSION = versionOf();

    /** Capabilities Warren can relay; advertised to clients when the broker has them too. */
    private static final String[] RELAYED_CAPABILITIES = {
        "publisher_confirms", "exchange_exchange_bindings", "basic.nack", "consumer_cancel_notify",
        "connection.blocked", "authentication_failure_close", "per_consumer_qos", "direct_reply_to"
    };

    private final ProxyConfig config;
    private final NetworkRuntime runtime;
    private final CredentialKeyer keyer;
    private final ChannelReusePolicy policy;
    private final ProxyStats stats = new ProxyStats();
    private final MessageBudget messageBudget;
    private final UpstreamPools pools = new UpstreamPools(this);
    private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    private final ExchangeTypeProbe exchangeTypes = new ExchangeTypeProbe(this);
    private final ClientAdmission admission;
    private final SlowClientBudget slowClientBudget;
    private volatile ConnectionMethod.Start connectionStart = start(null);

    ProxyEngine(ProxyConfig config, NetworkRuntime runtime, CredentialKeyer keyer, ChannelReusePolicy policy) {
        this.config = config;
        this.runtime = runtime;
        this.keyer = keyer;
        this.policy = policy;
        this.messageBudget = new MessageBudget(config.messageBuffer(), stats);
        this.admission = ClientAdmission.forThisProcess(config.maxConnections(), stats::upstreamConnections);
        this.slowClientBudget = new SlowClientBudget(config.slowClientBufferTotal(), stats);
    }

    SlowClientBudget slowClientBudget() {
        return slowClientBudget;
    }

    ClientAdmission admission() {
        return admission;
    }

    ProxyConfig config() {
        return config;
    }

    NetworkRuntime runtime() {
        return runtime;
    }

    CredentialKeyer keyer() {
        return keyer;
    }

    ChannelReusePolicy policy() {
        return policy;
    }

    /** The engine-wide budget of held (incomplete) messages: {@code message-buffer}. */
    MessageBudget messageBudget() {
        return messageBudget;
    }

    ProxyStats stats() {
        return stats;
    }

    UpstreamPools pools() {
        return pools;
    }

    ExchangeTypeProbe exchangeTypes() {
        return exchangeTypes;
    }

    Set<ClientSession> sessions() {
        return sessions;
    }

    ConnectionMethod.Start connectionStart() {
        return connectionStart;
    }

    /** Advertise to clients the capabilities the broker really has (learned at each upstream handshake). */
    void learnServerProperties(FieldTable serverProperties) {
        connectionStart = start(serverProperties.getTable("capabilities").orElse(FieldTable.EMPTY));
    }

    private static ConnectionMethod.Start start(FieldTable upstreamCapabilities) {
        FieldTable.Builder caps = FieldTable.builder();
        for (String name : RELAYED_CAPABILITIES) {
            boolean has = upstreamCapabilities == null || upstreamCapabilities.getBoolean(name, false);
            if (has) {
                caps.put(name, new FieldValue.Bool(true));
            }
        }
        FieldTable properties = FieldTable.builder()
                .put("product", LongString.of("Warren"))
                .put("version", LongString.of(VERSION))
                .put("platform", LongString.of("Java " + Runtime.version().feature()))
                .put("information", LongString.of("AMQP 0-9-1 proxy"))
                .put("capabilities", new FieldValue.Table(caps.build()))
                .build();
        return new ConnectionMethod.Start(0, 9, properties, LongString.of(Sasl.MECHANISMS),
                LongString.of("en_US"));
    }

    private static String versionOf() {
        String v = ProxyEngine.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
