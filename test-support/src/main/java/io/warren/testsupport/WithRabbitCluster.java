package io.warren.testsupport;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives the test class a real RabbitMQ cluster of {@link #nodes()} private nodes: shorthand for
 * {@code @ExtendWith(RabbitClusterExtension.class)} with a size. Test methods, constructors and lifecycle methods
 * may declare a {@link RabbitCluster} parameter. A {@link BrokerConfig} on the class (or an enclosing class)
 * configures every node. Combine with {@link WithRabbitBroker} if the class also needs the single-node broker.
 * <pre>{@code
 * @WithRabbitCluster(nodes = 3)
 * class FailoverIT {
 *     @Test
 *     void survivesANode(RabbitCluster cluster) throws Exception {
 *         ConnectionFactory cf = new ConnectionFactory();
 *         cf.setUri(cluster.node(1).amqpUri());
 *         // ... cluster.node(0).stopApp(); cluster.amqpUrlList() is Warren's upstream
 *     }
 * }
 * }</pre>
 * The cluster is shared (see {@link RabbitCluster}): use unique queue, user and vhost names.
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(RabbitClusterExtension.class)
public @interface WithRabbitCluster {

    /** How many nodes: 2 is enough to fail over; 3 where a quorum queue must survive the loss of a node. */
    int nodes() default 2;
}
