package io.warren.bench;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One producer and one consumer, as RabbitMQ's PerfTest runs them by default ({@code -x 1 -y 1 -s 100}): the
 * RabbitMQ Java client, one connection each, a server-named queue on the default exchange, 100-byte bodies, no
 * publisher confirms, the consumer with no prefetch limit acking every message by itself. The producer runs at a
 * fixed rate ({@code -r}, paced in 1 ms steps) or as fast as it can (rate 0). Both connect to the port under test;
 * the queue is declared and deleted on a connection of its own straight to the broker.
 */
final class MessageFlow implements AutoCloseable {
    private static final byte[] BODY = new byte[100];

    private final Connection producerConnection;
    private final Connection consumerConnection;
    private final Connection admin;
    private final Channel adminChannel;
    private final String queue;
    private final Channel producer;
    private final AtomicLong received = new AtomicLong();
    private volatile boolean stop;
    private Thread producerThread;
    private final AtomicLong published = new AtomicLong();

    MessageFlow(int port, String brokerHost, int brokerPort) throws Exception {
        admin = ThroughputBench.factory(brokerHost, brokerPort, "guest", "guest").newConnection("flow-admin");
        adminChannel = admin.createChannel();
        queue = adminChannel.queueDeclare("", false, false, false, null).getQueue();
        ConnectionFactory f = ThroughputBench.factory("127.0.0.1", port, "guest", "guest");
        consumerConnection = f.newConnection("flow-consumer");
        Channel consumer = consumerConnection.createChannel();
        consumer.basicConsume(queue, false, new DefaultConsumer(consumer) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body)
                    throws IOException {
                getChannel().basicAck(envelope.getDeliveryTag(), false);
                received.incrementAndGet();
            }
        });
        producerConnection = f.newConnection("flow-producer");
        producer = producerConnection.createChannel();
    }

    /** Starts publishing, {@code rate} messages per second (0: as fast as the client can). */
    void start(int rate) {
        producerThread = new Thread(() -> {
            try {
                publish(rate);
            } catch (Exception e) {
                if (!stop) {
                    System.err.println("producer failed: " + e);
                }
            }
        }, "flow-producer");
        producerThread.setDaemon(true);
        producerThread.start();
    }

    private void publish(int rate) throws Exception {
        long t0 = System.nanoTime();
        long sent = 0;
        while (!stop) {
            if (rate > 0) {
                long due = (System.nanoTime() - t0) * rate / 1_000_000_000L;
                if (sent >= due) {
                    TimeUnit.MICROSECONDS.sleep(500);
                    continue;
                }
                for (; sent < due && !stop; sent++) {
                    producer.basicPublish("", queue, null, BODY);
                    published.incrementAndGet();
                }
            } else {
                producer.basicPublish("", queue, null, BODY);
                published.incrementAndGet();
            }
        }
    }

    long received() {
        return received.get();
    }

    long published() {
        return published.get();
    }

    /** Stops the producer and waits until the consumer has had what was published (or {@code millis} passed). */
    void stopAndDrain(long millis) throws InterruptedException {
        stop = true;
        if (producerThread != null) {
            producerThread.join(10_000);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (received.get() < published.get() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    @Override
    public void close() throws IOException {
        stop = true;
        for (Connection c : new Connection[] {producerConnection, consumerConnection}) {
            try {
                c.close(5000);
            } catch (Exception e) {
                System.err.println("closing a flow connection: " + e);
            }
        }
        try {
            adminChannel.queueDelete(queue);
        } finally {
            admin.close();
        }
    }
}
