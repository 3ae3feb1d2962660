package io.warren.testsupport;

import java.lang.annotation.Annotation;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstancePostProcessor;
import org.junit.platform.commons.support.AnnotationSupport;
import org.opentest4j.TestAbortedException;

/**
 * JUnit 5 extension that gives tests a real RabbitMQ ({@link RabbitBroker}); see {@link RabbitBroker} for where
 * the broker comes from and {@link BrokerConfig} for custom configuration. Injects {@link RabbitBroker}
 * parameters (test, lifecycle and constructor) and fields; before each test it resolves the broker (aborting
 * the test if the environment cannot provide the requested config); after each test it restarts a node the
 * test stopped or killed.
 */
public class RabbitBrokerExtension implements ParameterResolver, TestInstancePostProcessor, BeforeAllCallback,
        BeforeEachCallback, AfterEachCallback {

    /** The broker for the given context's {@link BrokerConfig} (method, class, enclosing classes). */
    public static RabbitBroker broker(ExtensionContext context) {
        return Brokers.get(spec(context));
    }

    /**
     * The default broker (no {@link BrokerConfig}), for test engines that do not run JUnit Jupiter extensions
     * (or code outside a test engine): the same per-JVM node {@link WithRabbitBroker} tests get.
     */
    public static RabbitBroker defaultBroker() {
        return Brokers.get(NodeSpec.of(null));
    }

    static NodeSpec spec(ExtensionContext context) {
        Optional<BrokerConfig> config = context.getTestMethod()
                .flatMap(m -> AnnotationSupport.findAnnotation(m, BrokerConfig.class))
                .or(() -> onTestClass(context, BrokerConfig.class));
        return NodeSpec.of(config.orElse(null));
    }

    /** The annotation on the test class (or a superclass), else on the nearest enclosing class that has it. */
    static <A extends Annotation> Optional<A> onTestClass(ExtensionContext context, Class<A> type) {
        Optional<A> found = Optional.empty();
        for (Class<?> c = context.getTestClass().orElse(null); found.isEmpty() && c != null; c = c.getEnclosingClass()) {
            found = AnnotationSupport.findAnnotation(c, type);
        }
        return found;
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == RabbitBroker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return broker(extensionContext);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        inject(context.getRequiredTestClass(), null, context);
    }

    @Override
    public void postProcessTestInstance(Object testInstance, ExtensionContext context) throws Exception {
        inject(testInstance.getClass(), testInstance, context);
    }

    private static void inject(Class<?> type, Object instance, ExtensionContext context) throws IllegalAccessException {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                boolean isStatic = Modifier.isStatic(f.getModifiers());
                if (f.getType() != RabbitBroker.class || Modifier.isFinal(f.getModifiers())
                        || isStatic != (instance == null)) {
                    continue;
                }
                f.setAccessible(true);
                if (f.get(instance) == null) {
                    try {
                        f.set(instance, broker(context));
                    } catch (TestAbortedException e) {
                        return; // beforeEach aborts the test itself
                    }
                }
            }
        }
    }

    /** Resolves (starts) the broker before each test, so that "no broker for this config" skips the test. */
    @Override
    public void beforeEach(ExtensionContext context) {
        broker(context);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Brokers.existing(spec(context)).ifPresent(AbstractBroker::ensureRunning);
    }
}
