package io.warren.testsupport;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Broker configuration for a test class (or method, or an enclosing class of a {@code @Nested} class).
 * Each distinct configuration gets its own node (started once per JVM), e.g.
 * <pre>{@code
 * @WithRabbitBroker
 * @BrokerConfig(conf = {"channel_max = 16", "heartbeat = 2"}, plugins = {"rabbitmq_prometheus"})
 * class MetricsIT { @Test void scrape(RabbitBroker broker) { broker.prometheusPort().orElseThrow(); } }
 * }</pre>
 * Do not set {@code listeners.tcp.*}: the AMQP listener is always 127.0.0.1 on a free port. Ports of known
 * plugins (prometheus, management, mqtt, stomp, web_stomp, web_mqtt, stream) are set to free loopback ports.
 * For extra listeners (e.g. TLS) write {@code ${port:NAME}} and read it back with {@link RabbitBroker#port}:
 * {@code "listeners.ssl.default = 127.0.0.1:${port:amqps}", "ssl_options.cacertfile = /path/ca.pem"}
 * (files must be readable by the user the node runs as: {@code rabbitmq} when tests run as root).
 */
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
public @interface BrokerConfig {

    /** Lines of rabbitmq.conf (new-style sysctl format), appended after the fixture's own lines. */
    String[] conf() default {};

    /** Plugins to enable, e.g. {@code "rabbitmq_prometheus"}, {@code "rabbitmq_management"}. */
    String[] plugins() default {};
}
