package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConfirmMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.Frame;
import io.warren.codec.LongString;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolHeader;
import io.warren.codec.QueueMethod;
import io.warren.core.config.ProxyConfig;
import io.warren.testsupport.BrokerConfig;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Issue 7 item 3: the limits on clients, channels per client and message size, each compared with what RabbitMQ
 * 3.10.8 does under the same limit ({@code connection_max}, {@code channel_max}, {@code max_message_size}), so
 * that these tests also pin the broker's behaviour Warren copies.
 */
@WithRabbitBroker
@BrokerConfig(conf = {"connection_max = 2", "channel_max = 3", "max_message_size = 4096", "num_acceptors.tcp = 1"})
class LimitsTest {
    static RabbitBroker broker;

    private static WarrenHarness warren(UnaryOperator<ProxyConfig.Builder> tweak) throws IOException {
        return WarrenHarness.start(broker, c -> tweak.apply(c.toBuilder()).build());
    }

    /** Header, start-ok, tune-ok, open as guest on {@code vhost}; returns what answers connection.open. */
    private static AmqpMethod handshakeUntilOpen(RawAmqpClient c, String vhost) throws IOException {
        return c.handshakeUntilOpen("guest", "guest", vhost, 0);
    }

    /** Whether connection.start arrived within a few milliseconds. */
    private static boolean startArrived(RawAmqpClient c) throws IOException {
        c.readTimeout(Duration.ofMillis(20));
        try {
            Frame f = c.nextFrame();
            assertThat(f).as("the broker never closes a waiting client").isNotNull();
            assertThat(MethodCodec.decode(f.payload())).isInstanceOf(ConnectionMethod.Start.class);
            return true;
        } catch (IOException e) {
            if (e instanceof SocketTimeoutException) {
                return false;
            }
            throw e;
        } catch (io.warren.codec.ProtocolException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * RabbitMQ 3.10.8's {@code connection_max} is Ranch's max_connections: the broker refuses no one. Each acceptor
     * still lets two clients past the limit, and the clients after those are accepted by the kernel and then hear
     * nothing (no connection.start, no connection.close, no FIN) until a served client leaves. A client library
     * sees a connection timeout: the stall Warren does not copy (it answers 530, see below). (Which clients get
     * through once a slot frees depends on Ranch's acceptors, so this pins only the silence.)
     *
     * <p>With one acceptor ({@code num_acceptors.tcp = 1}) {@code connection_max} (2) plus two clients are answered
     * (measured: 4; with two acceptors 6, so the default 10 would answer 22): once those 4 have heard
     * connection.start the acceptor has had its turn and stopped, so the silence of the others is the limit's doing,
     * not a broker that is merely slow. (A sleep of 2 s stood for that before.)
     */
    @Test
    void brokerConnectionMaxStallsExtraClientsWithoutAWord() throws Exception {
        int answeredAtMost = 2 + 2; // connection_max, plus two for the one acceptor
        List<RawAmqpClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 12; i++) {
                RawAmqpClient c = new RawAmqpClient(broker.host(), broker.amqpPort());
                c.send(ProtocolHeader.AMQP_0_9_1);
                clients.add(c);
            }
            List<RawAmqpClient> answered = new ArrayList<>();
            await("connection.start for connection_max plus two clients").atMost(Duration.ofSeconds(30))
                    .until(() -> {
                        for (RawAmqpClient c : clients) {
                            if (!answered.contains(c) && startArrived(c)) {
                                answered.add(c);
                            }
                        }
                        return answered.size() >= answeredAtMost;
                    });
            List<RawAmqpClient> waiting = new ArrayList<>();
            for (RawAmqpClient c : clients) {
                if (!answered.contains(c) && !startArrived(c)) {
                    waiting.add(c);
                }
            }
            assertThat(answered).as("clients answered").hasSize(answeredAtMost);
            assertThat(waiting).as("clients beyond the soft limit wait, neither answered nor closed")
                    .hasSize(clients.size() - answeredAtMost);
        } finally {
            for (RawAmqpClient c : clients) {
                c.close();
            }
        }
    }

    /**
     * The limits RabbitMQ does answer, per vhost and per user, are answered at connection.open with connection.close
     * 530 NOT_ALLOWED "... connection limit (N) is reached": Warren's max-connections answers in the same place with
     * the same code and wording, without logging in upstream; the admitted clients keep working, and a client that
     * leaves frees its slot.
     */
    @Test
    void maxConnectionsAnswers530AtConnectionOpenLikeTheBrokersVhostLimit() throws Exception {
        String vhost = "limited-" + UUID.randomUUID();
        // One rabbitmqctl call instead of three (each boots an Erlang VM): add_vhost, set_permissions,
        // set_vhost_limits.
        String v = "<<\"" + vhost + "\">>";
        broker.rabbitmqctl("eval", "ok = rabbit_vhost:add(" + v + ", <<\"limits-test\">>),"
                + " ok = rabbit_auth_backend_internal:set_permissions(<<\"guest\">>, " + v
                + ", <<\".*\">>, <<\".*\">>, <<\".*\">>, <<\"limits-test\">>),"
                + " ok = rabbit_vhost_limit:parse_set(" + v + ", <<\"{\\\"max-connections\\\": 1}\">>,"
                + " <<\"limits-test\">>).");
        ConnectionMethod.Close direct;
        try (RawAmqpClient first = new RawAmqpClient(broker.host(), broker.amqpPort());
                RawAmqpClient second = new RawAmqpClient(broker.host(), broker.amqpPort())) {
            assertThat(handshakeUntilOpen(first, vhost)).isInstanceOf(ConnectionMethod.OpenOk.class);
            direct = (ConnectionMethod.Close) handshakeUntilOpen(second, vhost);
        }
        assertThat(direct.replyCode()).isEqualTo(530);
        assertThat(direct.replyText()).startsWith("NOT_ALLOWED - ").endsWith("connection limit (1) is reached");
        assertThat(direct.failingClassId()).isEqualTo(10);
        assertThat(direct.failingMethodId()).isEqualTo(40);

        try (WarrenHarness w = warren(b -> b.maxConnections(2));
                RawAmqpClient raw = RawAmqpClient.open("127.0.0.1", w.port());
                Connection library = w.factory().newConnection()) {
            ConnectionMethod.Close refused;
            try (RawAmqpClient extra = new RawAmqpClient("127.0.0.1", w.port())) {
                refused = (ConnectionMethod.Close) handshakeUntilOpen(extra, "/");
                assertThat(extra.closedWithin(Duration.ofSeconds(5))).isTrue();
            }
            assertThat(refused.replyCode()).isEqualTo(direct.replyCode());
            assertThat(refused.failingClassId()).isEqualTo(direct.failingClassId());
            assertThat(refused.failingMethodId()).isEqualTo(direct.failingMethodId());
            assertThat(refused.replyText()).isEqualTo("NOT_ALLOWED - connection limit (2) is reached");

            // The admitted clients carry on: a confirmed publish through one, a channel on the other.
            Channel ch = library.createChannel();
            ch.confirmSelect();
            String q = ch.queueDeclare().getQueue();
            ch.basicPublish("", q, null, new byte[10]);
            ch.waitForConfirmsOrDie(10_000);
            assertThat(ch.messageCount(q)).isEqualTo(1);
            raw.openChannel(1);

            raw.closeConnection();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> w.proxy.clientCount() == 1);
            try (RawAmqpClient next = new RawAmqpClient("127.0.0.1", w.port())) {
                assertThat(handshakeUntilOpen(next, "/")).isInstanceOf(ConnectionMethod.OpenOk.class);
            }
        }
    }

    /**
     * Opens channels 1, 2 and 7 (channel_max limits how many are open, not their numbers) and then a fourth; returns
     * the connection.close that answers it.
     */
    private static ConnectionMethod.Close fourthChannel(int port) throws IOException {
        try (RawAmqpClient c = RawAmqpClient.open("127.0.0.1", port)) {
            c.openChannel(1);
            c.openChannel(2);
            c.openChannel(7);
            c.sendMethod(3, new ChannelMethod.Open(""));
            return c.awaitConnectionClose();
        }
    }

    /** Opening more channels than channel_max is a connection error 530 that names no failing method. */
    @Test
    void channelMaxIsTheBrokersConnectionError530() throws Exception {
        ConnectionMethod.Close direct = fourthChannel(broker.amqpPort());
        assertThat(direct.replyCode()).isEqualTo(530);
        assertThat(direct.replyText())
                .isEqualTo("NOT_ALLOWED - number of channels opened (3) has reached the negotiated channel_max (3)");
        try (WarrenHarness w = warren(b -> b.clientChannelMax(3))) {
            assertThat(fourthChannel(w.port())).isEqualTo(direct);
        }
    }

    /**
     * A tune-ok asking for more channels than offered: the broker closes the socket without a word (it says nothing
     * before connection.open); Warren closes too, saying why with 530.
     */
    @Test
    void tuneOkAboveChannelMaxIsRefused() throws Exception {
        try (RawAmqpClient direct = new RawAmqpClient(broker.host(), broker.amqpPort())) {
            direct.requestedChannelMax = 4;
            assertThat(tuneOkThenOpen(direct)).as("the broker sends no connection.close").isNull();
            assertThat(direct.closedWithin(Duration.ofSeconds(10))).isTrue();
        }
        try (WarrenHarness w = warren(b -> b.clientChannelMax(3));
                RawAmqpClient proxied = new RawAmqpClient("127.0.0.1", w.port())) {
            proxied.requestedChannelMax = 4;
            ConnectionMethod.Close close = tuneOkThenOpen(proxied);
            assertThat(close.replyCode()).isEqualTo(530);
            assertThat(close.replyText()).contains("channel_max=4");
        }
    }

    private static ConnectionMethod.Close tuneOkThenOpen(RawAmqpClient c) throws IOException {
        c.send(ProtocolHeader.AMQP_0_9_1);
        c.expect(ConnectionMethod.Start.class);
        c.sendMethod(0, new ConnectionMethod.StartOk(FieldTable.EMPTY, "PLAIN",
                LongString.of("\0guest\0guest".getBytes(StandardCharsets.UTF_8)), "en_US"));
        ConnectionMethod.Tune tune = c.expect(ConnectionMethod.Tune.class);
        c.sendMethod(0, new ConnectionMethod.TuneOk(c.requestedChannelMax, tune.frameMax(), 0));
        c.sendMethod(0, new ConnectionMethod.Open("/", "", false));
        return c.awaitConnectionClose();
    }

    /** What a 4097-byte message gets, and whether the connection still serves a 4096-byte one on another channel. */
    private static ChannelMethod.Close oversizedMessage(int port) throws IOException {
        try (RawAmqpClient c = RawAmqpClient.open("127.0.0.1", port)) {
            c.openChannel(1);
            c.publish(1, "", "nowhere", new byte[4097]);
            ChannelMethod.Close close = c.expect(ChannelMethod.Close.class);
            c.sendMethod(1, new ChannelMethod.CloseOk());

            c.openChannel(2);
            c.sendMethod(2, new QueueMethod.Declare(0, "", false, false, true, true, false, FieldTable.EMPTY));
            String queue = c.expect(QueueMethod.DeclareOk.class).queue();
            c.sendMethod(2, new ConfirmMethod.Select(false));
            c.expect(ConfirmMethod.SelectOk.class);
            c.publish(2, "", queue, new byte[4096]);
            assertThat(c.expect(BasicMethod.Ack.class).deliveryTag()).as("a message at the limit is confirmed")
                    .isEqualTo(1);
            c.sendMethod(2, new QueueMethod.Declare(0, queue, true, false, true, true, false, FieldTable.EMPTY));
            assertThat(c.expect(QueueMethod.DeclareOk.class).messageCount()).isEqualTo(1);
            c.closeConnection();
            return close;
        }
    }

    /** A message over the limit is a channel error 406 on basic.publish; the connection carries on. */
    @Test
    void maxMessageSizeIsTheBrokersChannelError406() throws Exception {
        ChannelMethod.Close direct = oversizedMessage(broker.amqpPort());
        assertThat(direct.replyCode()).isEqualTo(406);
        assertThat(direct.replyText())
                .isEqualTo("PRECONDITION_FAILED - message size 4097 is larger than configured max size 4096");
        assertThat(direct.failingClassId()).isEqualTo(60);
        assertThat(direct.failingMethodId()).isEqualTo(40);
        try (WarrenHarness w = warren(b -> b.maxMessageSize(4096))) {
            assertThat(oversizedMessage(w.port())).isEqualTo(direct);
        }
    }
}
