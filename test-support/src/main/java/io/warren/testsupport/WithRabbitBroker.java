package io.warren.testsupport;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives the test class a real RabbitMQ: shorthand for {@code @ExtendWith(RabbitBrokerExtension.class)}.
 * Test methods, constructors and lifecycle methods may declare a {@link RabbitBroker} parameter; fields of
 * type {@link RabbitBroker} (static or instance) are injected too.
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(RabbitBrokerExtension.class)
public @interface WithRabbitBroker {
}
