package io.warren.testsupport;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that gives tests a real RabbitMQ cluster ({@link RabbitCluster}) of the size named by the
 * nearest {@link WithRabbitCluster} (test class, then enclosing classes) and the nodes' {@link BrokerConfig}.
 * Injects {@link RabbitCluster} parameters (test, lifecycle and constructor); before each test it resolves the
 * cluster (booting it the first time); after each test it {@linkplain RabbitCluster#restore() restores} it.
 */
public class RabbitClusterExtension implements ParameterResolver, BeforeEachCallback, AfterEachCallback {

    /** The cluster for the given context's {@link WithRabbitCluster} and {@link BrokerConfig}. */
    public static RabbitCluster cluster(ExtensionContext context) {
        return Brokers.cluster(spec(context));
    }

    static ClusterSpec spec(ExtensionContext context) {
        int size = RabbitBrokerExtension.onTestClass(context, WithRabbitCluster.class).map(WithRabbitCluster::nodes)
                .orElse(2);
        return new ClusterSpec(size, RabbitBrokerExtension.spec(context));
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == RabbitCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return cluster(extensionContext);
    }

    /** Resolves (boots) the cluster before each test, so that a cluster that cannot start fails the test. */
    @Override
    public void beforeEach(ExtensionContext context) {
        cluster(context);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Brokers.existingCluster(spec(context)).ifPresent(LocalRabbitCluster::restore);
    }
}
